#include "AppEvent.h"

#include <QCoreApplication>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

QString textOf(const QString &s) { return s; }
QString textOf(const std::optional<QString> &s) { return s.value_or(QString()); }

QString forEntity(const QString &entityType, const QString &entityId)
{
    return entityType + u' ' + entityId;
}

} // namespace

EventKind AppEvent::kind() const
{
    return std::visit(Overloaded{
                          [](std::monostate) { return EventKind::StoryEventCreated; },
                          [](const auto &v) { return std::decay_t<decltype(v)>::Kind; },
                      },
                      m_data);
}

QString AppEvent::worldId() const
{
    return std::visit(
        [](const auto &v) -> QString {
            if constexpr (requires { v.worldId; })
                return textOf(v.worldId);
            else
                return {};
        },
        m_data);
}

QString AppEvent::sessionId() const
{
    return std::visit(
        [](const auto &v) -> QString {
            if constexpr (requires { v.sessionId; })
                return textOf(v.sessionId);
            else
                return {};
        },
        m_data);
}

QString AppEvent::summary() const
{
    using namespace events;
    return std::visit(
        Overloaded{
            [](std::monostate) { return u"(empty event)"_s; },
            [](const StoryEventCreated &e) {
                return u"Story event “%1” recorded"_s.arg(e.eventType);
            },
            [](const NarrativeEventTriggered &e) {
                return u"%1 triggered → %2"_s.arg(e.eventName, e.outcomeName);
            },
            [](const ChallengeResolved &e) {
                QString s = u"%1 %2 at %3"_s.arg(e.characterId,
                                                 e.success ? u"succeeded"_s : u"failed"_s,
                                                 e.challengeName);
                if (e.roll && e.total)
                    s += u" (%1 → %2)"_s.arg(*e.roll).arg(*e.total);
                else if (e.total)
                    s += u" (total %1)"_s.arg(*e.total);
                return s;
            },
            [](const GenerationBatchQueued &e) {
                return u"%1 generation queued for %2 (position %3)"_s.arg(
                    e.assetType, forEntity(e.entityType, e.entityId)).arg(e.position);
            },
            [](const GenerationBatchProgress &e) {
                return u"Generation %1 at %2%"_s.arg(e.batchId).arg(e.progress);
            },
            [](const GenerationBatchCompleted &e) {
                return u"%1 × %2 generated for %3"_s.arg(e.assetCount).arg(
                    e.assetType, forEntity(e.entityType, e.entityId));
            },
            [](const GenerationBatchFailed &e) {
                return u"%1 generation failed for %2: %3"_s.arg(
                    e.assetType, forEntity(e.entityType, e.entityId), e.error);
            },
            [](const SuggestionQueued &e) {
                QString s = u"Suggestion queued for %1"_s.arg(e.fieldType);
                if (e.entityId && !e.entityId->isEmpty())
                    s += u" of "_s + *e.entityId;
                return s;
            },
            [](const SuggestionProgress &e) {
                return u"Suggestion %1: %2"_s.arg(e.requestId, e.status);
            },
            [](const SuggestionCompleted &e) {
                QString s = e.suggestions.size() == 1
                    ? u"1 suggestion for %1"_s.arg(e.fieldType)
                    : u"%1 suggestions for %2"_s.arg(e.suggestions.size()).arg(e.fieldType);
                if (!e.suggestions.isEmpty())
                    s += u": “"_s + e.suggestions.first().left(60) + u"”"_s;
                return s;
            },
            [](const SuggestionFailed &e) {
                return u"Suggestion for %1 failed: %2"_s.arg(e.fieldType, e.error);
            },
        },
        m_data);
}

} // namespace eventdesk
