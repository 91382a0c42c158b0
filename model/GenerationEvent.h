// GenerationEvent: what the engine's generation and suggestion queues signal
// internally while they work, and GenerationEventPublisher, which turns each
// into the matching AppEvent on the bus — the same split as in the engine, so
// the queues do not know about the bus.
#pragma once

#include "AppEvent.h"
#include "Ports.h"

#include <QObject>

#include <variant>

namespace eventdesk {

namespace generation {
struct BatchQueued { QString batchId, entityType, entityId, assetType; qint64 position = 0; };
struct BatchProgress { QString batchId; qint64 progress = 0; };
struct BatchComplete { QString batchId, entityType, entityId, assetType; qint64 assetCount = 0; };
struct BatchFailed { QString batchId, entityType, entityId, assetType, error; };
struct SuggestionQueued { QString requestId, fieldType; std::optional<QString> entityId; };
struct SuggestionProgress { QString requestId, status; };
struct SuggestionComplete { QString requestId, fieldType; QStringList suggestions; };
struct SuggestionFailed { QString requestId, fieldType, error; };
} // namespace generation

struct GenerationEvent {
    std::variant<generation::BatchQueued, generation::BatchProgress, generation::BatchComplete,
                 generation::BatchFailed, generation::SuggestionQueued,
                 generation::SuggestionProgress, generation::SuggestionComplete,
                 generation::SuggestionFailed>
        data;
    // Context the queue knew when the job was submitted.
    std::optional<QString> sessionId;  // carried by batch events
    std::optional<QString> worldId;    // carried by suggestion events

    AppEvent toAppEvent() const;
};

class GenerationEventPublisher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GenerationEventPublisher)
public:
    explicit GenerationEventPublisher(EventBus &bus, QObject *parent = nullptr);

    // Publishes the AppEvent for one GenerationEvent. Never fails loudly: a bus
    // error is logged, reported through publishFailed() and returned.
    QFuture<PublishResult> publish(const GenerationEvent &event);

Q_SIGNALS:
    void publishFailed(const eventdesk::Error &error);

private:
    EventBus &m_bus;
};

} // namespace eventdesk
