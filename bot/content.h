// Everything mailguide loads from its flows directory, loaded and validated together:
// the guide's flows, the SMTP knowledge base and the triage vocabulary.
#pragma once

#include <string>

#include "bot/flow.h"
#include "bot/smtp/smtp.h"
#include "bot/status.h"
#include "bot/triage.h"

namespace bot {

struct Content {
  FlowSet flows;
  smtp::Knowledge smtp;
  Triage triage;
};

// Fails with every problem found, each naming its file.
Result<Content> LoadContent(const std::string& flows_dir);

}  // namespace bot
