// Sample events of every variant for the test suites: one with every optional
// field set and one with none.
#pragma once

#include "AppEvent.h"

namespace eventdesk::test {

inline AppEvent sampleEvent(EventKind kind, bool withOptionals, const QString &world = QStringLiteral("w1"))
{
    using namespace events;
    const auto opt = [&](const QString &s) { return withOptionals ? std::optional<QString>(s) : std::nullopt; };
    const auto optInt = [&](qint64 n) { return withOptionals ? std::optional<qint64>(n) : std::nullopt; };
    const QString session = QStringLiteral("s-1");
    switch (kind) {
    case EventKind::StoryEventCreated:
        return StoryEventCreated{QStringLiteral("se-1"), world, QStringLiteral("dialogue")};
    case EventKind::NarrativeEventTriggered:
        return NarrativeEventTriggered{QStringLiteral("ne-1"), world, QStringLiteral("The bridge collapses"),
                                       QStringLiteral("Party falls"), opt(session)};
    case EventKind::ChallengeResolved:
        return ChallengeResolved{opt(QStringLiteral("c1")), QStringLiteral("Pick the lock"), world,
                                 QStringLiteral("pc7"), true, optInt(14), optInt(17), opt(session)};
    case EventKind::GenerationBatchQueued:
        return GenerationBatchQueued{QStringLiteral("b-1"), QStringLiteral("character"), QStringLiteral("pc7"),
                                     QStringLiteral("portrait"), 3, opt(session)};
    case EventKind::GenerationBatchProgress:
        return GenerationBatchProgress{QStringLiteral("b-1"), 40, opt(session)};
    case EventKind::GenerationBatchCompleted:
        return GenerationBatchCompleted{QStringLiteral("b-1"), QStringLiteral("character"), QStringLiteral("pc7"),
                                        QStringLiteral("portrait"), 4, opt(session)};
    case EventKind::GenerationBatchFailed:
        return GenerationBatchFailed{QStringLiteral("b-1"), QStringLiteral("character"), QStringLiteral("pc7"),
                                     QStringLiteral("portrait"), QStringLiteral("GPU out of memory"), opt(session)};
    case EventKind::SuggestionQueued:
        return SuggestionQueued{QStringLiteral("r-1"), QStringLiteral("npc_name"), opt(QStringLiteral("npc-3")),
                                opt(world)};
    case EventKind::SuggestionProgress:
        return SuggestionProgress{QStringLiteral("r-1"), QStringLiteral("thinking"), opt(world)};
    case EventKind::SuggestionCompleted:
        return SuggestionCompleted{QStringLiteral("r-1"), QStringLiteral("npc_name"),
                                   {QStringLiteral("Aldric"), QStringLiteral("Brannoc \"the Bold\"")}, opt(world)};
    case EventKind::SuggestionFailed:
        return SuggestionFailed{QStringLiteral("r-1"), QStringLiteral("npc_name"), QStringLiteral("timeout"),
                                opt(world)};
    }
    return {};
}

inline QList<EventKind> allKinds()
{
    QList<EventKind> out;
    for (int i = 0; i < EventKindCount; ++i)
        out.append(static_cast<EventKind>(i));
    return out;
}

} // namespace eventdesk::test
