#include "bot/server/httplib_client.h"

#include <httplib.h>

#include <cctype>

namespace bot {

namespace {

bool IsContentType(const std::string& name) {
  static const std::string kName = "content-type";
  if (name.size() != kName.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != kName[i]) return false;
  }
  return true;
}

}  // namespace

HttplibClient::HttplibClient(HttplibClientOptions options) : options_(std::move(options)) {}

HttplibClient::~HttplibClient() = default;

Result<std::unique_ptr<httplib::Client>> HttplibClient::Take(const std::string& origin, bool https) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = idle_.find(origin);
    if (it != idle_.end() && !it->second.empty()) {
      auto client = std::move(it->second.back());
      it->second.pop_back();
      return client;
    }
  }
  auto client = std::make_unique<httplib::Client>(origin);
  if (!client->is_valid()) return Status::InvalidArgument("cannot make a client");
  client->set_connection_timeout(options_.connect_timeout);
  client->set_read_timeout(options_.read_timeout);
  client->set_write_timeout(options_.write_timeout);
  client->set_follow_location(false);
  client->set_keep_alive(options_.max_idle_per_origin > 0);
  client->set_tcp_nodelay(true);
  if (https) {
    client->enable_server_certificate_verification(true);
    if (!options_.ca_cert_file.empty()) client->set_ca_cert_path(options_.ca_cert_file);
  }
  return client;
}

void HttplibClient::GiveBack(const std::string& origin, std::unique_ptr<httplib::Client> client) {
  // Bounded: a few origins (Slack's API and hooks, a Teams serviceUrl or two), a few each.
  constexpr size_t kMaxOrigins = 64;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idle_.find(origin);
  if (it == idle_.end()) {
    if (idle_.size() >= kMaxOrigins) return;
    it = idle_.emplace(origin, std::vector<std::unique_ptr<httplib::Client>>{}).first;
  }
  if (it->second.size() < options_.max_idle_per_origin) it->second.push_back(std::move(client));
}

Result<HttpResponse> HttplibClient::Send(const std::string& method, const std::string& url,
                                         const Headers& headers, const std::string& body) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("not an absolute URL");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return Status::InvalidArgument("unsupported URL scheme " + scheme);
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  const std::string host = origin.substr(scheme_end + 3);

  try {
    auto taken = Take(origin, scheme == "https");
    if (!taken.ok()) return Status::InvalidArgument("cannot make a client for " + host);
    std::unique_ptr<httplib::Client> client = std::move(*taken);
    httplib::Headers h;
    std::string content_type = "application/octet-stream";
    for (const auto& [k, v] : headers) {
      if (IsContentType(k)) {
        content_type = v;  // passed separately: httplib would otherwise send it twice
      } else {
        h.emplace(k, v);
      }
    }
    if (method != "POST" && method != "PUT" && method != "GET" && method != "DELETE") {
      return Status::InvalidArgument("unsupported method " + method);
    }
    httplib::Result res = method == "POST"  ? client->Post(path, h, body, content_type)
                          : method == "PUT" ? client->Put(path, h, body, content_type)
                          : method == "GET" ? client->Get(path, h)
                                            : client->Delete(path, h, body, content_type);
    if (!res) {
      // The connection is dropped, not reused: its state after an error is unknown.
      return Status::Unavailable(method + " " + host + ": " + httplib::to_string(res.error()) + " error");
    }
    HttpResponse out;
    out.status = res->status;
    out.body = res->body;
    out.content_type = res->get_header_value("Content-Type");
    for (const auto& [k, v] : res->headers) out.headers.emplace(k, v);
    if (res->get_header_value("Connection") != "close") GiveBack(origin, std::move(client));
    return out;
  } catch (const std::exception& e) {
    return Status::Unavailable(method + " " + host + ": " + e.what());
  }
}

}  // namespace bot
