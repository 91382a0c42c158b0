// libFuzzer target for the session protocol: the client-message decoder and the
// router. Any frame gives a message or a protocol error, never a crash; what
// decodes is routed against every variant without surprises.
#include "SessionProtocol.h"

#include <QJsonDocument>

#include <cstdint>
#include <cstdlib>

using namespace eventdesk;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const protocol::Decoded decoded = protocol::decodeClientMessage(input);
    if (const auto *err = std::get_if<protocol::ProtocolError>(&decoded)) {
        if (err->message.isEmpty())
            std::abort();
        // The error reply is always valid JSON.
        QJsonParseError pe;
        QJsonDocument::fromJson(protocol::error(err->code, err->message), &pe);
        if (pe.error != QJsonParseError::NoError)
            std::abort();
        return 0;
    }
    const auto &message = std::get<protocol::ClientMessage>(decoded);
    if (const auto *join = std::get_if<protocol::Join>(&message)) {
        if (join->worldId.isEmpty() || (join->worldId == session::AllWorlds && join->role != session::Role::Dm))
            std::abort();
        // Route every variant to this client: a player never sees generation traffic or another world.
        const AppEvent events[] = {
            events::StoryEventCreated{QStringLiteral("s"), join->worldId, QStringLiteral("dialogue")},
            events::GenerationBatchProgress{QStringLiteral("b"), 10, std::nullopt},
            events::SuggestionProgress{QStringLiteral("r"), QStringLiteral("x"), join->worldId},
            events::ChallengeResolved{std::nullopt, QStringLiteral("c"), QStringLiteral("other-world"),
                                      QStringLiteral("pc"), true, 1, 2, std::nullopt},
        };
        for (const AppEvent &e : events) {
            const bool may = session::mayReceive(join->role, join->worldId, e);
            if (join->role == session::Role::Player && may
                && (e.category() == Category::Generation || e.category() == Category::Suggestion))
                std::abort();
            if (join->role == session::Role::Player && may && e.worldId() != join->worldId)
                std::abort();
        }
        (void)protocol::joined(QStringLiteral("1"), join->role, join->worldId, join->lastEventId.value_or(0));
    } else if (const auto *roll = std::get_if<protocol::ChallengeRoll>(&message)) {
        if (roll->modifier < -10 || roll->modifier > 10)
            std::abort();
    } else if (const auto *replay = std::get_if<protocol::Replay>(&message)) {
        if (replay->toEventId < replay->fromEventId || replay->fromEventId < 1)
            std::abort();
    } else if (const auto *ping = std::get_if<protocol::Ping>(&message)) {
        (void)protocol::pong(ping->nonce);
    }
    return 0;
}
