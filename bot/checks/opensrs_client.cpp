#include "bot/checks/opensrs_client.h"

#include <chrono>
#include <iostream>

namespace bot::checks {

namespace {

Status FromErrorNumber(int number, const std::string& text) {
  switch (number) {
    case 1: return Status::Unauthenticated(text);
    case 2: return Status::NotFound(text);
    case 3: return Status::InvalidArgument(text);
    case 4: return Status::PermissionDenied(text);
    case 5:
    case 6: return Status::InvalidArgument(text);
    case 7: return Status::AlreadyExists(text);
    case 0: return Status::Unavailable(text);
    default: return Status::Internal(text);
  }
}

std::string AuditOf(const nlohmann::json& body) {
  if (body.is_object()) {
    auto it = body.find("audit");
    if (it != body.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

}  // namespace

OpenSrsClient::OpenSrsClient(std::shared_ptr<HttpClient> http, OpenSrsSettings settings, LogSink log)
    : http_(std::move(http)), settings_(std::move(settings)), log_(std::move(log)) {
  while (!settings_.url.empty() && settings_.url.back() == '/') settings_.url.pop_back();
  if (!log_) log_ = [](const std::string& line) { std::cerr << "checks: " << line << "\n"; };
}

Result<OpenSrsReply> OpenSrsClient::Call(const std::string& method, const nlohmann::json& params,
                                         const std::string& subject) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string what = "opensrs " + method + (subject.empty() ? "" : " " + subject);
  auto elapsed = [&] {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                              .count()) + " ms";
  };
  if (!params.is_object()) return Status::InvalidArgument(method + ": the parameters must be a JSON object");

  nlohmann::json request = params;
  request["credentials"] = {{"user", settings_.user}, {"password", settings_.password}, {"client", settings_.client}};
  Headers headers{{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  auto sent = http_->Send("POST", settings_.url + "/" + method, headers, request.dump());
  if (!sent.ok()) {
    log_(what + ": no answer (" + sent.status().message() + ", " + elapsed() + ")");
    return Status::Unavailable(method + ": the admin API did not answer: " + sent.status().message());
  }
  const HttpResponse& response = *sent;
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const std::string audit = AuditOf(body);
  const std::string audit_note = audit.empty() ? "" : " [audit " + audit + "]";

  if (response.status != 200) {
    log_(what + ": HTTP " + std::to_string(response.status) + " audit=" + (audit.empty() ? "-" : audit) + " (" + elapsed() + ")");
    std::string text = method + ": the admin API answered HTTP " + std::to_string(response.status);
    if (response.status == 400) return Status::Internal(text + " (it could not read the request)" + audit_note);
    if (response.status == 404) return Status::Internal(text + " (no such method at this URL)" + audit_note);
    if (response.status == 401) return Status::Unauthenticated(text + audit_note);
    if (response.status == 403) return Status::PermissionDenied(text + audit_note);
    if (response.status >= 500) return Status::Unavailable(text + " (a fault on the provider's side)" + audit_note);
    return Status::Internal(text + audit_note);
  }
  if (!body.is_object() || !body.contains("success") || !body["success"].is_boolean()) {
    log_(what + ": reply without a boolean 'success' (" + elapsed() + ")");
    return Status::Unavailable(method + ": the admin API's reply is not the documented JSON envelope");
  }
  if (!body["success"].get<bool>()) {
    int number = -1;
    if (auto it = body.find("error_number"); it != body.end() && it->is_number_integer()) number = it->get<int>();
    std::string error = "no error text";
    if (auto it = body.find("error"); it != body.end() && it->is_string()) error = it->get<std::string>();
    while (!error.empty() && (error.back() == '.' || error.back() == ' ')) error.pop_back();
    log_(what + ": error " + std::to_string(number) + " audit=" + (audit.empty() ? "-" : audit) + " (" + elapsed() + ")");
    return FromErrorNumber(number, method + ": error " + std::to_string(number) + ": " + error + audit_note);
  }
  log_(what + ": ok audit=" + (audit.empty() ? "-" : audit) + " (" + elapsed() + ")");
  return OpenSrsReply{std::move(body), audit};
}

}  // namespace bot::checks
