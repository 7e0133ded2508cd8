#include "bot/session_store.h"

#include <string>

namespace bot {

Status CheckCommitArguments(const Session& session, int64_t expected_version, const EventClaim& claim) {
  if (session.key.empty()) return Status::InvalidArgument("cannot store a session with an empty key");
  if (expected_version < 0) {
    return Status::InvalidArgument("expected_version must be 0 (new session) or the loaded version, got " +
                                   std::to_string(expected_version));
  }
  if (session.version != expected_version + 1) {
    return Status::InvalidArgument("session.version must be expected_version + 1 (" +
                                   std::to_string(expected_version + 1) + "), got " +
                                   std::to_string(session.version));
  }
  if (!claim.event_id.empty() && claim.ttl_seconds <= 0) {
    return Status::InvalidArgument("an event claim needs a positive ttl_seconds");
  }
  return Status::Ok();
}

}  // namespace bot
