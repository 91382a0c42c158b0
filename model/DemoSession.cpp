#include "DemoSession.h"

#include "Ids.h"

#include <QUuid>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

struct Scene {
    QString narrative;
    QStringList outcomes;
};

const QList<Scene> &scenes()
{
    static const QList<Scene> all = {
        {u"The bridge collapses"_s, {u"Party falls into the river"_s, u"Party leaps to safety"_s}},
        {u"The duke's secret is revealed"_s, {u"The court turns on him"_s, u"He flees the city"_s}},
        {u"Bandits at the crossroads"_s, {u"Ambush repelled"_s, u"Toll paid in silver"_s}},
        {u"The storm breaks"_s, {u"Ship runs aground"_s, u"Harbor reached at dawn"_s}},
    };
    return all;
}

const QStringList &challengeNames()
{
    static const QStringList all = {u"Pick the lock"_s, u"Climb the cliff"_s, u"Persuade the guard"_s,
                                    u"Decipher the runes"_s, u"Sneak past the hounds"_s, u"Swim the rapids"_s};
    return all;
}

const QStringList &characterNames()
{
    static const QStringList all = {u"Aria"_s, u"Borin"_s, u"Cass"_s, u"Dane"_s, u"Elowen"_s, u"Fenn"_s,
                                    u"Garrick"_s, u"Hesper"_s, u"Ilsa"_s, u"Joss"_s, u"Kael"_s, u"Lune"_s};
    return all;
}

} // namespace

DemoSession::DemoSession(EventBus &bus, DeskBook *book, DemoOptions options, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_book(book)
    , m_options(std::move(options))
    , m_rng(m_options.seed ? m_options.seed : QRandomGenerator::system()->generate())
    , m_sessionId(QUuid::createUuid().toString(QUuid::WithoutBraces))
    , m_story(bus)
    , m_narrative(bus)
    , m_challenges(std::make_unique<ChallengeService>(bus, m_rng.generate()))
    , m_publisher(bus)
    , m_generation(std::make_unique<GenerationService>(m_publisher, QueueSimulation{250, m_options.failureRate, m_rng.generate()}))
    , m_suggestions(std::make_unique<SuggestionService>(m_publisher, QueueSimulation{250, m_options.failureRate, m_rng.generate()}))
{
    const QStringList &names = characterNames();
    for (const QString &name : std::as_const(m_options.worlds)) {
        const QString worldId = ids::isUuid(name) ? name : ids::worldUuid(name);
        m_worlds.append(worldId);
        if (m_book && !ids::isUuid(name))
            m_book->setDisplayName(u"world"_s, worldId, name);
        for (int i = 0; i < std::max(1, m_options.players); ++i) {
            const QString who = names.at(i % names.size())
                + (i >= names.size() ? u" %1"_s.arg(i / names.size() + 1) : QString());
            const QString characterId = ids::characterUuid(worldId, who);
            m_cast[worldId].append(characterId);
            if (m_book)
                m_book->setDisplayName(u"character"_s, characterId, who);
        }
    }
    m_beat.setInterval(std::max(1, int(1000.0 / std::max(0.01, m_options.actionsPerSecond))));
    connect(&m_beat, &QTimer::timeout, this, &DemoSession::act);
    m_drain.setInterval(100);
    connect(&m_drain, &QTimer::timeout, this, [this] {
        if (m_generation->pending() == 0 && m_suggestions->pending() == 0) {
            m_drain.stop();
            if (!std::exchange(m_finished, true))
                Q_EMIT finished();
        }
    });
}

DemoSession::~DemoSession() = default;

void DemoSession::start()
{
    if (m_running || m_worlds.isEmpty())
        return;
    m_running = true;
    m_beat.start();
    QTimer::singleShot(m_options.durationMs, this, &DemoSession::stop);
}

void DemoSession::stop()
{
    if (!m_running)
        return;
    m_running = false;
    m_beat.stop();
    // Running jobs finish (10 s at most; what is left then shows as stuck).
    m_drain.start();
    QTimer::singleShot(10000, this, [this] {
        m_drain.stop();
        if (!std::exchange(m_finished, true))
            Q_EMIT finished();
    });
}

QString DemoSession::someCharacter(const QString &world)
{
    const QStringList &cast = m_cast[world];
    return cast.at(int(m_rng.bounded(int(cast.size()))));
}

void DemoSession::act()
{
    ++m_actions;
    const auto track = [this](QFuture<PublishResult> f) {
        f.then(this, [this](const PublishResult &r) {
            if (!r)
                ++m_failures;
        });
    };
    const QString world = m_worlds.at(int(m_rng.bounded(int(m_worlds.size()))));
    const int roll = int(m_rng.bounded(100));
    if (roll < 35) {
        track(m_story.record(world, StoryKind(m_rng.bounded(StoryKindCount))));
    } else if (roll < 60) {
        const QString name = challengeNames().at(int(m_rng.bounded(int(challengeNames().size()))));
        track(m_challenges->resolve(std::nullopt, name, world, someCharacter(world), 8 + int(m_rng.bounded(10)),
                                    int(m_rng.bounded(-2, 6)), m_sessionId)
                  .published);
    } else if (roll < 70) {
        const Scene &s = scenes().at(int(m_rng.bounded(int(scenes().size()))));
        track(m_narrative.markTriggered(QUuid::createUuid().toString(QUuid::WithoutBraces), world, s.narrative,
                                        s.outcomes.at(int(m_rng.bounded(int(s.outcomes.size())))), m_sessionId));
    } else if (roll < 85) {
        static const QStringList assets = {u"portrait"_s, u"token"_s, u"backdrop"_s};
        m_generation->queue(u"character"_s, someCharacter(world), assets.at(int(m_rng.bounded(int(assets.size())))),
                            m_sessionId);
    } else {
        static const QStringList fields = {u"npc_name"_s, u"location_description"_s, u"tavern_name"_s};
        m_suggestions->request(fields.at(int(m_rng.bounded(int(fields.size())))), someCharacter(world), world);
    }
}

} // namespace eventdesk
