// Activity → Message: mention stripping, conversation keys per reply chain / group chat /
// personal chat, card clicks, install events, what is ignored, and the reply address.
#include <catch2/catch.hpp>

#include "adapters/teams/teams_json.h"
#include "support/teams_fixtures.h"

using bot::Inbound;
using bot::Status;
using bot::teams::DecodeActivity;
using bot::teams::DecodeEventId;
using bot::teams::Endpoint;
using bot::teams::StripBotMention;
using bot::testing::ReadTeamsFixture;

namespace {

const std::string kTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const std::string kBotId = "28:c9e8c047-2a74-40a2-b28a-b162d5f5327c";

Inbound Decode(const std::string& fixture, Endpoint endpoint = Endpoint::kBot) {
  auto in = DecodeActivity(ReadTeamsFixture(fixture), endpoint);
  INFO(fixture << ": " << in.status().ToString());
  REQUIRE(in.ok());
  return *in;
}

}  // namespace

TEST_CASE("the reference mention example strips to the command text", "[teams]") {
  std::string entities =
      R"([{"type":"mention","mentioned":{"id":"28:bot","name":"SupportBot"},"text":"<at>SupportBot</at>"}])";
  CHECK(StripBotMention("<at>SupportBot</at> smtp-code 42", entities, "28:bot") == "smtp-code 42");
  CHECK(StripBotMention("\r\n<at>Tess</at> who created you?\r\n",
                        R"([{"type":"Mention","mentioned":{"id":"28:t","name":"Tess"},"text":"<at>Tess</at>"}])",
                        "28:t") == "who created you?");
  SECTION("only the recipient's own mention goes; others become @Name") {
    std::string two =
        R"([{"type":"mention","mentioned":{"id":"28:bot","name":"SupportBot"},"text":"<at>SupportBot</at>"},
            {"type":"mention","mentioned":{"id":"29:ada","name":"Ada"},"text":"<at>Ada</at>"}])";
    CHECK(StripBotMention("<at>Ada</at> asked <at>SupportBot</at> about webmail", two, "28:bot") ==
          "@Ada asked  about webmail");
  }
  SECTION("entity without text: <at>name</at> is removed") {
    CHECK(StripBotMention("<at>SupportBot</at> hi", R"([{"type":"mention","mentioned":{"id":"28:bot","name":"SupportBot"}}])",
                          "28:bot") == "hi");
  }
  SECTION("case-insensitive match, &nbsp; and U+00A0 trimmed") {
    CHECK(StripBotMention("<AT>supportbot</AT>&nbsp;help\xC2\xA0", entities, "28:bot") == "help");
  }
  SECTION("no entity for the recipient: a leading tag with its name still goes") {
    CHECK(StripBotMention("<at>mailguide</at> webmail", "[]", "28:bot", nullptr, "MailGuide") == "webmail");
    CHECK(StripBotMention("<at>Ada</at> webmail", "[]", "28:bot", nullptr, "mailguide") == "@Ada webmail");
  }
  SECTION("webhooks: no recipient id, the leading mention is the bot's") {
    std::string name;
    CHECK(StripBotMention("<at>mailguide</at> yes", "[]", "null", &name) == "yes");
    CHECK(name == "mailguide");
  }
}

TEST_CASE("an outgoing webhook message decodes to an inline turn in its reply chain", "[teams]") {
  Inbound in = Decode("webhook_message.json", Endpoint::kWebhook);
  REQUIRE(in.kind == Inbound::Kind::kMessage);
  CHECK(in.reply_inline);
  const auto& m = in.message;
  CHECK(m.text == "customer can't log in to webmail @Larry Brown");
  CHECK(m.command.empty());
  CHECK(m.ref.platform == "teams");
  CHECK(m.ref.workspace == kTenant);
  CHECK(m.ref.channel == "19:253b1f341670408fb6fe51050b6e5ceb@thread.skype");
  CHECK(m.ref.thread == "1485983194839");
  CHECK(m.ref.user == "29:1XJKJMvc5GBtc2Jw");
  auto address = DecodeEventId(m.event_id);
  REQUIRE(address.ok());
  CHECK(address->mention_name == "mailguide");
  CHECK(address->activity_id == "1485983408511");
}

TEST_CASE("a webhook strips its leading mention even when recipient carries an id", "[teams]") {
  std::string body = ReadTeamsFixture("webhook_message.json");
  body.replace(body.find(R"("recipient":{"id":"null","name":"null"})"),
               std::string(R"("recipient":{"id":"null","name":"null"})").size(),
               R"("recipient":{"id":"28:something-else","name":"x"})");
  auto in = DecodeActivity(body, Endpoint::kWebhook);
  REQUIRE(in.ok());
  CHECK(in->message.text == "customer can't log in to webmail @Larry Brown");
}

TEST_CASE("a personal-chat command becomes the engine's command", "[teams]") {
  Inbound in = Decode("personal_message.json");
  REQUIRE(in.kind == Inbound::Kind::kMessage);
  CHECK_FALSE(in.reply_inline);
  const auto& m = in.message;
  CHECK(m.command == "smtp-code");
  CHECK(m.text == "550 5.7.26");
  CHECK(m.ref.channel == "a:17I0kl9EkpE1O9-personal");
  CHECK(m.ref.thread.empty());
  CHECK(m.ref.reply_url == "https://smba.trafficmanager.net/amer/");
  CHECK(m.ref.Key() == "teams:" + kTenant + ":a:17I0kl9EkpE1O9-personal");
  CHECK(m.private_conversation);  // only the two of us read a personal chat
  auto address = DecodeEventId(m.event_id);
  REQUIRE(address.ok());
  CHECK(address->conversation_id == "a:17I0kl9EkpE1O9-personal");
  CHECK(address->activity_id == "1700000000101");
  CHECK(address->reply_to_id.empty());
}

TEST_CASE("conversations are keyed per reply chain, group chat and personal chat", "[teams]") {
  Inbound channel = Decode("channel_mention.json");
  CHECK(channel.message.text == "mail to gmail bounces with 550 5.7.26");
  CHECK(channel.message.ref.channel == "19:c0ffee@thread.tacv2");
  CHECK(channel.message.ref.thread == "1700000000100");
  CHECK(DecodeEventId(channel.message.event_id)->conversation_id == "19:c0ffee@thread.tacv2;messageid=1700000000100");

  CHECK_FALSE(channel.message.private_conversation);
  Inbound group = Decode("group_chat_message.json");
  CHECK_FALSE(group.message.private_conversation);
  CHECK(group.message.ref.channel == "19:meeting_abc@thread.v2");
  CHECK(group.message.ref.thread.empty());
  CHECK(group.message.command == "mailguide");
  CHECK(group.message.text == "receiving");

  SECTION("a root post in a channel starts its own chain") {
    std::string body = ReadTeamsFixture("channel_mention.json");
    body.replace(body.find(";messageid=1700000000100"), std::string(";messageid=1700000000100").size(), "");
    auto in = DecodeActivity(body, Endpoint::kBot);
    REQUIRE(in.ok());
    CHECK(in->message.ref.thread == "1700000000201");
  }
}

TEST_CASE("typed command-list entries map to the engine's commands", "[teams]") {
  auto text_of = [](const std::string& text) {
    std::string body = R"({"type":"message","id":"1","serviceUrl":"https://s/","channelId":"msteams",
      "from":{"id":"29:u"},"recipient":{"id":"28:b"},"conversation":{"conversationType":"personal","id":"a:1"},
      "text":")" + text + R"("})";
    auto in = DecodeActivity(body, Endpoint::kBot);
    REQUIRE(in.ok());
    return std::make_pair(in->message.command, in->message.text);
  };
  CHECK(text_of("help") == std::make_pair(std::string("mailguide"), std::string("help")));
  CHECK(text_of("Webmail she can't log in") == std::make_pair(std::string("mailguide"), std::string("webmail she can't log in")));
  CHECK(text_of("/smtp-code 421") == std::make_pair(std::string("smtp-code"), std::string("421")));
  CHECK(text_of("sending") == std::make_pair(std::string("mailguide"), std::string("sending")));
  CHECK(text_of("yes") == std::make_pair(std::string(""), std::string("yes")));
  CHECK(text_of("") == std::make_pair(std::string("mailguide"), std::string("")));
}

TEST_CASE("an Action.Submit click continues the flow with its choice and step", "[teams]") {
  Inbound in = Decode("card_click.json");
  REQUIRE(in.kind == Inbound::Kind::kMessage);
  const auto& m = in.message;
  CHECK(m.choice == "yes");
  CHECK(m.step_token == "t3");
  CHECK(m.text.empty());
  CHECK(m.ref.channel == "19:c0ffee@thread.tacv2");
  CHECK(m.ref.thread == "1700000000100");
  auto address = DecodeEventId(m.event_id);
  REQUIRE(address.ok());
  CHECK(address->reply_to_id == "1700000000555");
  CHECK(address->answered == "Can she log in to webmail?\nYes");

  SECTION("a drop-down answer arrives as the input's value") {
    std::string body = ReadTeamsFixture("card_click.json");
    body.replace(body.find(R"("choice":"yes",)"), std::string(R"("choice":"yes",)").size(), "");
    body.replace(body.find(R"("value":{)"), std::string(R"("value":{)").size(), R"("value":{"choice":"mac",)");
    auto drop = DecodeActivity(body, Endpoint::kBot);
    REQUIRE(drop.ok());
    CHECK(drop->message.choice == "mac");
  }
  SECTION("a click whose card names another conversation is refused") {
    std::string body = ReadTeamsFixture("card_click.json");
    body.replace(body.find(R"("channel":"19:c0ffee@thread.tacv2","thread")"),
                 std::string(R"("channel":"19:c0ffee@thread.tacv2")").size(), R"("channel":"19:other@thread.tacv2")");
    auto other = DecodeActivity(body, Endpoint::kBot);
    CHECK(other.status().code() == Status::Code::kInvalidArgument);
  }
  SECTION("a click on a card that is not ours is ignored") {
    std::string body = ReadTeamsFixture("card_click.json");
    body.replace(body.find(R"("mailguide":)"), std::string(R"("mailguide":)").size(), R"("someone":)");
    auto foreign = DecodeActivity(body, Endpoint::kBot);
    REQUIRE(foreign.ok());
    CHECK(foreign->kind == Inbound::Kind::kIgnore);
  }
}

TEST_CASE("being installed asks the engine for a short help reply, once", "[teams]") {
  Inbound added = Decode("conversation_update_bot_added.json");
  REQUIRE(added.kind == Inbound::Kind::kMessage);
  CHECK(added.message.command == "mailguide");
  CHECK(added.message.text == "help");
  auto address = DecodeEventId(added.message.event_id);
  REQUIRE(address.ok());
  CHECK(address->activity_id.empty());  // append to the conversation: nothing to reply under
  CHECK(address->conversation_id == "a:1personal-install");

  Inbound install = Decode("installation_update_add.json");
  REQUIRE(install.kind == Inbound::Kind::kMessage);
  // Both events for one install carry the same event id, so the engine answers once.
  CHECK(install.message.event_id == added.message.event_id);
}

TEST_CASE("what the adapters ignore", "[teams]") {
  CHECK(Decode("conversation_update_user_added.json").kind == Inbound::Kind::kIgnore);
  CHECK(Decode("bot_own_message.json").kind == Inbound::Kind::kIgnore);
  CHECK(Decode("typing.json").kind == Inbound::Kind::kIgnore);
  CHECK(Decode("installation_update_add.json", Endpoint::kWebhook).kind == Inbound::Kind::kIgnore);
  // Webhook clicks cannot happen; a value-only message there is plain (empty) text.
  CHECK(Decode("card_click.json", Endpoint::kWebhook).message.choice.empty());
}

TEST_CASE("malformed bodies are InvalidArgument, never a crash", "[teams]") {
  for (std::string body : {"", "null", "[]", "{", R"({"type":"message"})", R"({"conversation":{"id":"a"}})",
                           R"({"type":"message","conversation":{"id":"a:1"}})",
                           R"({"type":7,"conversation":{"id":["x"]},"from":"me","text":{"a":1}})"}) {
    auto in = DecodeActivity(body, Endpoint::kBot);
    INFO(body);
    CHECK(in.status().code() == Status::Code::kInvalidArgument);
  }
  // Wrong types inside an otherwise valid activity are tolerated as absent.
  auto odd = DecodeActivity(
      R"({"type":"message","id":1,"conversation":{"id":"a:1","tenantId":5},"from":{"id":"29:u"},"text":["x"],"entities":"no","value":[1]})",
      Endpoint::kBot);
  REQUIRE(odd.ok());
  CHECK(odd->message.command == "mailguide");
}

TEST_CASE("event ids round-trip any characters", "[teams]") {
  bot::teams::ReplyAddress a{"19:x@thread.tacv2;messageid=1|2", "f:3%", "4", "mail guide", "T|itle\nYes"};
  auto back = DecodeEventId(bot::teams::EncodeEventId(a));
  REQUIRE(back.ok());
  CHECK(back->conversation_id == a.conversation_id);
  CHECK(back->activity_id == a.activity_id);
  CHECK(back->answered == a.answered);
  CHECK(!DecodeEventId("slack|1").ok());
  CHECK(!DecodeEventId("teams1|a|b").ok());
}
