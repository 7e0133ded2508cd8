// Teams activities for both endpoints (/teams/webhook and /api/messages): the routing peek
// the JWT check uses, the decoder, mention stripping and the reply address. Whatever
// decodes is echoed into a card, which must serialise within the activity size limit.
#include <string>

#include "adapters/teams/teams_card.h"
#include "adapters/teams/teams_json.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool webhook = data[0] & 1;
  const std::string_view body = bot::fuzz::AsView(data + 1, size - 1);
  (void)bot::teams::PeekRouting(body);
  (void)bot::teams::DecodeEventId(body);
  {
    auto parts = bot::fuzz::SplitN(body, '\0', 3);
    std::string name;
    (void)bot::teams::StripBotMention(parts[0], parts[1], parts[2], &name, parts[2]);
    (void)bot::teams::StripBotMention(parts[0], parts[1], "", &name, parts[2]);
  }
  auto in = bot::teams::DecodeActivity(body, webhook ? bot::teams::Endpoint::kWebhook : bot::teams::Endpoint::kBot);
  if (!in.ok() || in->kind != bot::Inbound::Kind::kMessage) return 0;
  const bot::Message& m = in->message;
  auto address = bot::teams::DecodeEventId(m.event_id);
  bot::Reply reply;
  reply.title = m.text;
  reply.paragraphs = {m.text, m.choice};
  reply.facts = {{m.text, m.text}};
  reply.preformatted = m.text;
  reply.choices = {{m.text, m.choice, bot::Choice::Style::kDefault}};
  bot::teams::CardContext ctx;
  ctx.buttons = !webhook;
  ctx.channel = m.ref.channel;
  ctx.thread = m.ref.thread;
  if (address.ok() && !address->mention_name.empty()) ctx.mention_name = address->mention_name;
  const std::string activity = bot::teams::RenderMessageActivity({reply, reply}, ctx);
  if (activity.size() > bot::teams::kMaxActivityBytes) bot::fuzz::Fail();
  if (!nlohmann::json::accept(activity)) bot::fuzz::Fail();
  if (address.ok()) (void)bot::teams::RenderAnsweredCard(address->answered).dump();
  return 0;
}
