#include "Producers.h"

#include <QUuid>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {
QString newId() { return QUuid::createUuid().toString(QUuid::WithoutBraces); }
quint32 seedOr(quint32 seed) { return seed ? seed : QRandomGenerator::system()->generate(); }
} // namespace

QString storyKindName(StoryKind kind)
{
    static const QStringList names = {u"dialogue"_s,      u"challenge_attempt"_s,   u"scene_transition"_s,
                                      u"dm_marker"_s,     u"item_acquired"_s,       u"relationship_change"_s,
                                      u"combat_started"_s, u"combat_ended"_s,       u"location_discovered"_s,
                                      u"quest_updated"_s};
    return names.value(int(kind));
}

QFuture<PublishResult> StoryEventService::record(const QString &worldId, StoryKind kind)
{
    return m_bus.publish(events::StoryEventCreated{newId(), worldId, storyKindName(kind)});
}

QFuture<PublishResult> NarrativeEventService::markTriggered(const QString &eventId, const QString &worldId,
                                                            const QString &eventName, const QString &outcomeName,
                                                            const std::optional<QString> &sessionId)
{
    return m_bus.publish(events::NarrativeEventTriggered{eventId, worldId, eventName, outcomeName, sessionId});
}

ChallengeService::ChallengeService(EventBus &bus, quint32 seed)
    : m_bus(bus)
    , m_dice(seedOr(seed))
{
}

ChallengeRollOutcome ChallengeService::resolve(const std::optional<QString> &challengeId, const QString &challengeName,
                                               const QString &worldId, const QString &characterId, int difficulty,
                                               int modifier, const std::optional<QString> &sessionId)
{
    const qint64 roll = m_dice.bounded(1, 21);
    const qint64 total = roll + modifier;
    AppEvent event = events::ChallengeResolved{challengeId, challengeName, worldId, characterId, total >= difficulty,
                                               roll, total, sessionId};
    return {event, m_bus.publish(event)};
}

// --- generation ---------------------------------------------------------------

GenerationService::GenerationService(GenerationEventPublisher &publisher, QueueSimulation sim, QObject *parent)
    : QObject(parent)
    , m_publisher(publisher)
    , m_sim(sim)
    , m_rng(seedOr(sim.seed))
{
    connect(&m_timer, &QTimer::timeout, this, &GenerationService::tick);
}

template <typename E>
void GenerationService::publish(const Batch &b, E e)
{
    m_publisher.publish(GenerationEvent{std::move(e), b.sessionId, std::nullopt});
}

QString GenerationService::queue(const QString &entityType, const QString &entityId, const QString &assetType,
                                 const std::optional<QString> &sessionId)
{
    Batch b{newId(), entityType, entityId, assetType, sessionId, 0};
    publish(b, generation::BatchQueued{b.id, entityType, entityId, assetType, qint64(m_queue.size())});
    m_queue.push_back(b);
    if (!m_timer.isActive())
        m_timer.start(m_sim.tickMs);
    return b.id;
}

void GenerationService::tick()
{
    if (m_queue.empty()) {
        m_timer.stop();
        Q_EMIT idle();
        return;
    }
    Batch &b = m_queue.front();
    if (m_rng.generateDouble() < m_sim.failureRate / 4.0) {
        static const QStringList errors = {u"ComfyUI returned 503: queue full"_s, u"GPU out of memory"_s,
                                           u"workflow node KSampler failed"_s, u"timed out after 120 s"_s};
        publish(b, generation::BatchFailed{b.id, b.entityType, b.entityId, b.assetType,
                                           errors.at(m_rng.bounded(int(errors.size())))});
        m_queue.pop_front();
        return;
    }
    b.progress = std::min(100, b.progress + 10 + int(m_rng.bounded(26)));
    if (b.progress < 100) {
        publish(b, generation::BatchProgress{b.id, b.progress});
        return;
    }
    publish(b, generation::BatchComplete{b.id, b.entityType, b.entityId, b.assetType, 1 + m_rng.bounded(4)});
    m_queue.pop_front();
}

// --- suggestions --------------------------------------------------------------

SuggestionService::SuggestionService(GenerationEventPublisher &publisher, QueueSimulation sim, QObject *parent)
    : QObject(parent)
    , m_publisher(publisher)
    , m_sim(sim)
    , m_rng(seedOr(sim.seed ? sim.seed + 1 : 0))
{
    connect(&m_timer, &QTimer::timeout, this, &SuggestionService::tick);
}

QString SuggestionService::request(const QString &fieldType, const std::optional<QString> &entityId,
                                   const std::optional<QString> &worldId)
{
    Request r{newId(), fieldType, entityId, worldId, 0};
    m_publisher.publish(GenerationEvent{generation::SuggestionQueued{r.id, fieldType, entityId}, std::nullopt, worldId});
    m_queue.push_back(r);
    if (!m_timer.isActive())
        m_timer.start(m_sim.tickMs);
    return r.id;
}

void SuggestionService::tick()
{
    if (m_queue.empty()) {
        m_timer.stop();
        Q_EMIT idle();
        return;
    }
    Request &r = m_queue.front();
    const auto send = [&](auto e) { m_publisher.publish(GenerationEvent{std::move(e), std::nullopt, r.worldId}); };
    if (r.step < 2) {
        send(generation::SuggestionProgress{r.id, r.step == 0 ? u"thinking"_s : u"writing"_s});
        ++r.step;
        return;
    }
    if (m_rng.generateDouble() < m_sim.failureRate) {
        send(generation::SuggestionFailed{r.id, r.fieldType, u"the language model timed out after 30 s"_s});
    } else {
        static const QStringList names = {u"Aldric Vane"_s, u"Mira Holt"_s, u"Brannoc the Bold"_s, u"Séverine d’Arbois"_s,
                                          u"Tobiah Crane"_s, u"Ysolde Fenwick"_s, u"Garrick Stone"_s, u"Liora Ash"_s};
        static const QStringList places = {u"A fog-bound harbor where the lamps never go out"_s,
                                           u"A ruined chapel, its bells stolen by crows"_s,
                                           u"The Copper Kettle, a tavern that smells of cloves"_s,
                                           u"A bridge of rope over the Weeping Gorge"_s};
        const QStringList &pool = r.fieldType.contains(u"name"_s) ? names : places;
        QStringList picks;
        for (int i = 0; i < 3; ++i)
            picks.append(pool.at(m_rng.bounded(int(pool.size()))));
        send(generation::SuggestionComplete{r.id, r.fieldType, picks});
    }
    m_queue.pop_front();
}

} // namespace eventdesk
