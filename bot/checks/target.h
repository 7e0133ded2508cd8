// What `mailguide check` and the engine hand to the probes: "alice@example.com" or "example.com".
#pragma once

#include <string>

#include "bot/probe.h"
#include "bot/status.h"

namespace bot::checks {

// Accepts a mailbox (local@domain) or a bare domain; the domain is lower-cased and loses a
// trailing dot. InvalidArgument with a one-line reason for anything else (spaces, a missing
// dot, a label over 63 characters, non-ASCII — use the xn-- form — a quoted local part ...).
Result<ProbeTarget> ParseTarget(const std::string& text);

// "alice@example.com" or "example.com": the canonical spelling of a parsed target.
std::string TargetText(const ProbeTarget& target);

// A host name in the LDH rules (letters, digits, hyphens; underscores allowed for service
// labels such as _dmarc). Used for names read from DNS and from configuration, too.
bool IsHostName(const std::string& name, std::string* why = nullptr);

}  // namespace bot::checks
