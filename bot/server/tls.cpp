#include "bot/server/tls.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace bot {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

bool AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool IsIpAddress(const std::string& host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  if (!ip) return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

// True when `path` holds a certificate that is still valid `margin_days` from now.
bool CertificateStillValid(const std::string& path, int margin_days) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  X509Ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!cert) return false;
  time_t when = time(nullptr) + static_cast<time_t>(margin_days) * 86400;
  return X509_cmp_time(X509_get0_notAfter(cert.get()), &when) > 0;
}

}  // namespace

Status GenerateSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                     const std::vector<std::string>& dns_names,
                                     const std::vector<std::string>& ip_addresses, int days) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Status::Internal("OpenSSL could not generate a P-256 key");
  X509Ptr cert(X509_new());
  if (!cert) return Status::Internal("OpenSSL could not allocate a certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate a little clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mailguide"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(dns_names.empty() ? "mailguide" : dns_names[0].c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  // CA:TRUE lets a client trust this one certificate directly as its own anchor.
  if (!AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExtension(cert.get(), NID_subject_key_identifier, "hash") ||
      (!san.empty() && !AddExtension(cert.get(), NID_subject_alt_name, san))) {
    return Status::Internal("OpenSSL could not add the certificate extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Status::Internal("OpenSSL could not sign the certificate");

  // The key is written 0600 from the first byte, never world-readable for an instant.
  const int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Status::InvalidArgument("cannot write " + key_path);
  ::fchmod(fd, 0600);
  FILE* kf = ::fdopen(fd, "w");
  if (!kf) {
    ::close(fd);
    return Status::InvalidArgument("cannot write " + key_path);
  }
  const bool key_ok = PEM_write_PrivateKey(kf, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(kf);
  FILE* cf = std::fopen(cert_path.c_str(), "w");
  if (!cf) return Status::InvalidArgument("cannot write " + cert_path);
  const bool cert_ok = PEM_write_X509(cf, cert.get()) == 1;
  std::fclose(cf);
  if (!key_ok || !cert_ok) return Status::InvalidArgument("could not write the certificate or key");
  return Status::Ok();
}

Result<TlsFiles> EnsureSelfSignedCertificate(const std::string& data_dir, const std::string& extra_host) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(data_dir) / "tls";
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + dir.string() + ": " + ec.message());
  TlsFiles files{(dir / "self-signed.crt").string(), (dir / "self-signed.key").string(), false};
  if (CertificateStillValid(files.cert_path, 1) && std::filesystem::exists(files.key_path)) return files;
  std::vector<std::string> dns{"localhost"};
  std::vector<std::string> ips{"127.0.0.1", "::1"};
  if (!extra_host.empty() && extra_host != "0.0.0.0" && extra_host != "::" && extra_host != "localhost" &&
      extra_host != "127.0.0.1" && extra_host != "::1") {
    (IsIpAddress(extra_host) ? ips : dns).push_back(extra_host);
  }
  Status s = GenerateSelfSignedCertificate(files.cert_path, files.key_path, dns, ips);
  if (!s.ok()) return s;
  files.generated = true;
  return files;
}

}  // namespace bot
