// The game's producers, as in the engine: services that record what happened
// and publish it through the EventBus port. A publish failure never stops the
// game: it is logged (by the bus), returned in the future, and play goes on.
#pragma once

#include "GenerationEvent.h"
#include "Ports.h"

#include <QObject>
#include <QRandomGenerator>
#include <QTimer>

#include <deque>

namespace eventdesk {

// The engine's story event kinds (StoryEventCreated.event_type).
enum class StoryKind {
    Dialogue,
    ChallengeAttempt,
    SceneTransition,
    DmMarker,
    ItemAcquired,
    RelationshipChange,
    CombatStarted,
    CombatEnded,
    LocationDiscovered,
    QuestUpdated,
};
inline constexpr int StoryKindCount = 10;
QString storyKindName(StoryKind kind);  // "dialogue", "scene_transition", …

class StoryEventService
{
public:
    explicit StoryEventService(EventBus &bus) : m_bus(bus) {}
    // Publishes StoryEventCreated with a fresh UUID.
    QFuture<PublishResult> record(const QString &worldId, StoryKind kind);
    QFuture<PublishResult> recordDialogue(const QString &worldId) { return record(worldId, StoryKind::Dialogue); }
    QFuture<PublishResult> recordChallengeAttempt(const QString &worldId) { return record(worldId, StoryKind::ChallengeAttempt); }
    QFuture<PublishResult> recordSceneTransition(const QString &worldId) { return record(worldId, StoryKind::SceneTransition); }
    QFuture<PublishResult> recordDmMarker(const QString &worldId) { return record(worldId, StoryKind::DmMarker); }
    QFuture<PublishResult> recordItemAcquired(const QString &worldId) { return record(worldId, StoryKind::ItemAcquired); }
    QFuture<PublishResult> recordRelationshipChange(const QString &worldId) { return record(worldId, StoryKind::RelationshipChange); }

private:
    EventBus &m_bus;
};

class NarrativeEventService
{
public:
    explicit NarrativeEventService(EventBus &bus) : m_bus(bus) {}
    QFuture<PublishResult> markTriggered(const QString &eventId, const QString &worldId, const QString &eventName,
                                         const QString &outcomeName, const std::optional<QString> &sessionId = {});

private:
    EventBus &m_bus;
};

struct ChallengeRollOutcome {
    AppEvent event;   // the ChallengeResolved published (or that failed to publish)
    QFuture<PublishResult> published;
};

class ChallengeService
{
public:
    // seed 0: random dice.
    explicit ChallengeService(EventBus &bus, quint32 seed = 0);
    // d20 + modifier against difficulty → ChallengeResolved.
    ChallengeRollOutcome resolve(const std::optional<QString> &challengeId, const QString &challengeName,
                                 const QString &worldId, const QString &characterId, int difficulty, int modifier,
                                 const std::optional<QString> &sessionId = {});

private:
    EventBus &m_bus;
    QRandomGenerator m_dice;
};

struct QueueSimulation {
    int tickMs = 400;           // how often a running job moves on
    double failureRate = 0.1;   // 0..1
    quint32 seed = 0;           // 0: random
};

// Simulates the engine's image generation queue: one batch runs at a time;
// queued (with its position), progress on a timer, then completed or failed.
class GenerationService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GenerationService)
public:
    GenerationService(GenerationEventPublisher &publisher, QueueSimulation sim, QObject *parent = nullptr);
    // Returns the batch id.
    QString queue(const QString &entityType, const QString &entityId, const QString &assetType,
                  const std::optional<QString> &sessionId = {});
    int pending() const { return int(m_queue.size()); }

Q_SIGNALS:
    void idle();

private:
    struct Batch {
        QString id, entityType, entityId, assetType;
        std::optional<QString> sessionId;
        int progress = 0;
    };
    void tick();
    template <typename E> void publish(const Batch &b, E e);

    GenerationEventPublisher &m_publisher;
    QueueSimulation m_sim;
    QRandomGenerator m_rng;
    std::deque<Batch> m_queue;
    QTimer m_timer;
};

// Simulates the engine's text suggestion queue (names, descriptions).
class SuggestionService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SuggestionService)
public:
    SuggestionService(GenerationEventPublisher &publisher, QueueSimulation sim, QObject *parent = nullptr);
    // Returns the request id.
    QString request(const QString &fieldType, const std::optional<QString> &entityId = {},
                    const std::optional<QString> &worldId = {});
    int pending() const { return int(m_queue.size()); }

Q_SIGNALS:
    void idle();

private:
    struct Request {
        QString id, fieldType;
        std::optional<QString> entityId, worldId;
        int step = 0;
    };
    void tick();

    GenerationEventPublisher &m_publisher;
    QueueSimulation m_sim;
    QRandomGenerator m_rng;
    std::deque<Request> m_queue;
    QTimer m_timer;
};

} // namespace eventdesk
