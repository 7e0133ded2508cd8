#include "bot/content.h"

namespace bot {

Result<Content> LoadContent(const std::string& flows_dir) {
  auto flows = LoadFlows(flows_dir);
  if (!flows.ok()) return flows.status();
  auto smtp = smtp::Knowledge::Load(flows_dir);
  if (!smtp.ok()) return smtp.status();
  auto triage = Triage::Load(flows_dir);
  if (!triage.ok()) return triage.status();
  return Content{std::move(flows).value(), std::move(smtp).value(), std::move(triage).value()};
}

}  // namespace bot
