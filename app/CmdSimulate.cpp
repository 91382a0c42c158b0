// simulate: a realistic game session through the producers, for demos,
// screenshots and benchmarks.
#include "Cli.h"

#include "Ids.h"

#include "Producers.h"

#include <QCoreApplication>
#include <QRandomGenerator>
#include <QTimer>
#include <QUuid>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

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

const QStringList challengesNames = {u"Pick the lock"_s, u"Climb the cliff"_s, u"Persuade the guard"_s,
                                     u"Decipher the runes"_s, u"Sneak past the hounds"_s, u"Swim the rapids"_s};

} // namespace

int simulateCommand(const QStringList &args)
{
    CommandParser p(u"simulate"_s, u"Play a realistic game session onto the bus: story beats, narrative triggers, "
                                   "challenge rolls per character, image generation and text suggestion jobs."_s);
    const QCommandLineOption worldOption(u"world"_s, u"The world, by name or UUID (repeatable; default Ravenmoor)."_s, u"world"_s);
    const QCommandLineOption playersOption(u"players"_s, u"Player characters per world (default 4)."_s, u"n"_s);
    const QCommandLineOption rateOption(u"rate"_s, u"Game actions per second (default 2)."_s, u"r"_s);
    const QCommandLineOption durationOption(u"duration"_s, u"How long: 30s, 5m, 1h (default 30s)."_s, u"d"_s);
    const QCommandLineOption seedOption(u"seed"_s, u"Seed for a repeatable session (default: random)."_s, u"n"_s);
    const QCommandLineOption failOption(u"failure-rate"_s, u"Share of generation/suggestion jobs that fail, 0..1 (default 0.1)."_s, u"f"_s);
    for (const auto &o : {worldOption, playersOption, rateOption, durationOption, seedOption, failOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    QCommandLineParser &parser = p.parser();
    int status = ExitOk;
    const auto players = p.integer(u"players"_s, 4, 1, 100, &status);
    const auto seed = players ? p.integer(u"seed"_s, 0, 0, 0xffffffffLL, &status) : std::nullopt;
    if (!players || !seed)
        return status;
    bool ok = true;
    const double rate = parser.isSet(rateOption) ? parser.value(rateOption).toDouble(&ok) : 2.0;
    if (!ok || rate <= 0 || rate > 10000)
        return usage(u"--rate must be a number of actions per second, 0 < rate <= 10000"_s);
    const double failureRate = parser.isSet(failOption) ? parser.value(failOption).toDouble(&ok) : 0.1;
    if (!ok || failureRate < 0 || failureRate > 1)
        return usage(u"--failure-rate must be between 0 and 1"_s);
    const auto duration = parseSpan(parser.isSet(durationOption) ? parser.value(durationOption) : u"30s"_s, u"smh", true);
    if (!duration)
        return usage(u"--duration must look like 30s, 5m or 1h"_s);
    const qint64 durationMs = *duration * 1000;
    QStringList worldNames = parser.values(worldOption);
    if (worldNames.isEmpty())
        worldNames = {u"Ravenmoor"_s};

    auto opened = LocalBus::open(p.busConfig());
    if (!opened)
        return failWith(opened.error());
    LocalBus &bus = *opened.value();

    // Every id is a UUID, as the engine wants; the names go to EventDesk's own
    // display names, so the window and the players read "Aria in Ravenmoor".
    static const QStringList characterNames = {u"Aria"_s, u"Borin"_s, u"Cass"_s, u"Dane"_s, u"Elowen"_s, u"Fenn"_s,
                                               u"Garrick"_s, u"Hesper"_s, u"Ilsa"_s, u"Joss"_s, u"Kael"_s, u"Lune"_s};
    QStringList worlds;
    QHash<QString, QStringList> cast;  // world id → its characters' ids
    for (const QString &name : std::as_const(worldNames)) {
        const QString worldId = ids::isUuid(name) ? name : ids::worldUuid(name);
        worlds.append(worldId);
        if (!ids::isUuid(name))
            wait(bus.book()->setDisplayName(u"world"_s, worldId, name));
        for (qint64 i = 0; i < *players; ++i) {
            const QString who = characterNames.at(int(i % characterNames.size()))
                + (i >= characterNames.size() ? u" %1"_s.arg(i / characterNames.size() + 1) : QString());
            const QString characterId = ids::characterUuid(worldId, who);
            cast[worldId].append(characterId);
            wait(bus.book()->setDisplayName(u"character"_s, characterId, who));
        }
    }

    QRandomGenerator rng(*seed ? quint32(*seed) : QRandomGenerator::system()->generate());
    const QString sessionId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    StoryEventService story(bus.bus());
    NarrativeEventService narrative(bus.bus());
    ChallengeService challenges(bus.bus(), rng.generate());
    GenerationEventPublisher publisher(bus.bus());
    QueueSimulation sim{250, failureRate, rng.generate()};
    GenerationService generation(publisher, sim);
    SuggestionService suggestions(publisher, sim);

    qint64 actions = 0, failures = 0;
    const auto track = [&](QFuture<PublishResult> f) {
        f.then(qApp, [&failures](const PublishResult &r) {
            if (!r)
                ++failures;
        });
    };
    const auto character = [&](const QString &world) {
        const QStringList &ids = cast[world];
        return ids.at(rng.bounded(int(ids.size())));
    };

    QTimer beat;
    beat.setInterval(std::max(1, int(1000.0 / rate)));
    QObject::connect(&beat, &QTimer::timeout, &beat, [&] {
        ++actions;
        const QString world = worlds.at(rng.bounded(int(worlds.size())));
        const int roll = rng.bounded(100);
        if (roll < 35) {
            track(story.record(world, StoryKind(rng.bounded(StoryKindCount))));
        } else if (roll < 60) {
            const QString name = challengesNames.at(rng.bounded(int(challengesNames.size())));
            track(challenges.resolve(std::nullopt, name, world, character(world), 8 + rng.bounded(10), rng.bounded(-2, 6),
                                     sessionId).published);
        } else if (roll < 70) {
            const Scene &s = scenes().at(rng.bounded(int(scenes().size())));
            track(narrative.markTriggered(QUuid::createUuid().toString(QUuid::WithoutBraces), world, s.narrative,
                                          s.outcomes.at(rng.bounded(int(s.outcomes.size()))), sessionId));
        } else if (roll < 85) {
            static const QStringList assets = {u"portrait"_s, u"token"_s, u"backdrop"_s};
            generation.queue(u"character"_s, character(world),
                             assets.at(rng.bounded(int(assets.size()))), sessionId);
        } else {
            static const QStringList fields = {u"npc_name"_s, u"location_description"_s, u"tavern_name"_s};
            suggestions.request(fields.at(rng.bounded(int(fields.size()))), character(world), world);
        }
    });
    beat.start();
    QTimer::singleShot(durationMs, &beat, [&] {
        beat.stop();
        // Let running jobs finish (10 s at most; what is left shows as stuck), then stop.
        QTimer *done = new QTimer(&beat);
        QObject::connect(done, &QTimer::timeout, &beat, [&] {
            if (generation.pending() == 0 && suggestions.pending() == 0)
                QCoreApplication::quit();
        });
        done->start(100);
        QTimer::singleShot(10000, &beat, &QCoreApplication::quit);
    });
    std::fprintf(stderr, "eventdesk: simulating %lld s of play in %s (%lld players, %.1f actions/s)\n",
                 qlonglong(durationMs / 1000), qPrintable(worldNames.join(u", "_s)), qlonglong(*players), rate);
    QCoreApplication::exec();
    std::fprintf(stderr, "eventdesk: %lld actions played%s\n", qlonglong(actions),
                 failures ? qPrintable(u", %1 publishes failed"_s.arg(failures)) : "");
    return failures ? ExitFailure : ExitOk;
}

} // namespace eventdesk::app
