#include "GenerationEvent.h"

#include "ModelLog.h"

namespace eventdesk {

namespace {
template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;
} // namespace

AppEvent GenerationEvent::toAppEvent() const
{
    using namespace generation;
    return std::visit(
        Overloaded{
            [&](const BatchQueued &e) {
                return AppEvent(events::GenerationBatchQueued{e.batchId, e.entityType, e.entityId,
                                                              e.assetType, e.position, sessionId});
            },
            [&](const BatchProgress &e) {
                return AppEvent(events::GenerationBatchProgress{e.batchId, e.progress, sessionId});
            },
            [&](const BatchComplete &e) {
                return AppEvent(events::GenerationBatchCompleted{e.batchId, e.entityType, e.entityId,
                                                                 e.assetType, e.assetCount, sessionId});
            },
            [&](const BatchFailed &e) {
                return AppEvent(events::GenerationBatchFailed{e.batchId, e.entityType, e.entityId,
                                                              e.assetType, e.error, sessionId});
            },
            [&](const SuggestionQueued &e) {
                return AppEvent(events::SuggestionQueued{e.requestId, e.fieldType, e.entityId, worldId});
            },
            [&](const SuggestionProgress &e) {
                return AppEvent(events::SuggestionProgress{e.requestId, e.status, worldId});
            },
            [&](const SuggestionComplete &e) {
                return AppEvent(events::SuggestionCompleted{e.requestId, e.fieldType, e.suggestions, worldId});
            },
            [&](const SuggestionFailed &e) {
                return AppEvent(events::SuggestionFailed{e.requestId, e.fieldType, e.error, worldId});
            },
        },
        data);
}

GenerationEventPublisher::GenerationEventPublisher(EventBus &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
{
}

QFuture<PublishResult> GenerationEventPublisher::publish(const GenerationEvent &event)
{
    return m_bus.publish(event.toAppEvent()).then(this, [this](const PublishResult &r) {
        if (!r) {
            qCWarning(lcModel).noquote() << "generation event not published:" << r.error().message;
            Q_EMIT publishFailed(r.error());
        }
        return r;
    });
}

} // namespace eventdesk
