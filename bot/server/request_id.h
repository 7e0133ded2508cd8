// Request ids: every answer of `mailguide serve` carries an X-Request-Id, also written in the
// request's log line, so an operator can match a client's report, a proxy's log and ours.
#pragma once

#include <string>

namespace bot {

// 16 random lowercase hex digits. Thread-safe.
std::string NewRequestId();

// `client_value` (an X-Request-Id set by a proxy in front, such as nginx's $request_id) when
// it is 1 to 64 characters of [A-Za-z0-9._-]; otherwise a new id. Nothing else is echoed, so
// a client cannot inject text into headers or logs.
std::string AcceptRequestId(const std::string& client_value);

}  // namespace bot
