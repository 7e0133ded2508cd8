// TLS material for `mailguide serve`: a self-signed certificate and key generated with
// OpenSSL when the operator configured none, so HTTPS works out of the box.
#pragma once

#include <string>
#include <vector>

#include "bot/status.h"

namespace bot {

struct TlsFiles {
  std::string cert_path;
  std::string key_path;
  bool generated = false;  // false: an earlier, still valid pair was reused
};

// Writes a fresh self-signed P-256 certificate (valid `days`, SAN = `dns_names` and
// `ip_addresses`) and its key (mode 0600). InvalidArgument when a file cannot be written.
Status GenerateSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                     const std::vector<std::string>& dns_names,
                                     const std::vector<std::string>& ip_addresses, int days = 365);

// DATA_DIR/tls/self-signed.{crt,key}: reused while valid for another day, else generated
// for localhost, 127.0.0.1, ::1 and `extra_host` (the listen host, when it is a name or IP).
Result<TlsFiles> EnsureSelfSignedCertificate(const std::string& data_dir, const std::string& extra_host = "");

}  // namespace bot
