// Projections kept live from the bus: rates, challenge success, job durations
// and stuck jobs, the story timeline; each event counted once across restarts.
#include "BusNotifier.h"
#include "GenerationEvent.h"
#include "Projector.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"

#include <QSignalSpy>
#include <QTemporaryDir>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

class TestProjector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void projectsLiveAndResumes();
};

void TestProjector::projectsLiveAndResumes()
{
    QTemporaryDir dir;
    SqliteOptions options;
    options.path = dir.filePath(u"p.db"_s);
    SqliteEventStore store(options);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);

    using namespace events;
    const auto roll = [](const QString &world, const QString &who, bool success) {
        return AppEvent(ChallengeResolved{std::nullopt, u"Climb"_s, world, who, success, 10, 12, std::nullopt});
    };
    QList<AppEvent> first = {roll(u"w1"_s, u"pc1"_s, true), roll(u"w1"_s, u"pc1"_s, false), roll(u"w1"_s, u"pc2"_s, true),
                             roll(u"w2"_s, u"pc9"_s, true), test::sampleEvent(EventKind::StoryEventCreated, true)};
    QVERIFY(await(bus.publishBatch(first)).ok());

    auto projector = std::make_unique<Projector>(store, notifier, *store.desk());
    QSignalSpy projected(projector.get(), &Projector::projected);
    projector->start();
    QTRY_COMPARE(projector->cursor(), 5);

    auto stats = await(projector->challengeStats());
    QVERIFY(stats.ok());
    QCOMPARE(stats->size(), 3);
    QCOMPARE(stats->at(0).characterId, u"pc1"_s);
    QCOMPARE(stats->at(0).attempts, 2);
    QCOMPARE(stats->at(0).successes, 1);

    // Generation and suggestion jobs through the engine's publisher.
    GenerationEventPublisher publisher(bus);
    using namespace generation;
    QVERIFY(await(publisher.publish({BatchQueued{u"b1"_s, u"character"_s, u"pc1"_s, u"portrait"_s, 0}, u"s1"_s, std::nullopt})).ok());
    QVERIFY(await(publisher.publish({BatchProgress{u"b1"_s, 50}, u"s1"_s, std::nullopt})).ok());
    QVERIFY(await(publisher.publish({BatchComplete{u"b1"_s, u"character"_s, u"pc1"_s, u"portrait"_s, 4}, u"s1"_s, std::nullopt})).ok());
    QVERIFY(await(publisher.publish({BatchQueued{u"b2"_s, u"location"_s, u"harbor"_s, u"backdrop"_s, 1}, std::nullopt, std::nullopt})).ok());
    QVERIFY(await(publisher.publish({generation::SuggestionQueued{u"r1"_s, u"npc_name"_s, std::nullopt}, std::nullopt, u"w1"_s})).ok());
    QVERIFY(await(publisher.publish({generation::SuggestionFailed{u"r1"_s, u"npc_name"_s, u"timeout"_s}, std::nullopt, u"w1"_s})).ok());
    QTRY_COMPARE(projector->cursor(), 11);

    const auto jobs = await(projector->jobs(10));
    QVERIFY(jobs.ok());
    QCOMPARE(jobs->size(), 3);
    QHash<QString, JobState> byId;
    for (const JobState &j : jobs.value())
        byId.insert(j.jobId, j);
    QCOMPARE(byId[u"b1"_s].status, u"completed"_s);
    QCOMPARE(byId[u"b1"_s].progress, 100);
    QVERIFY(byId[u"b1"_s].durationMs >= 0);
    QCOMPARE(byId[u"b1"_s].label, u"portrait for character pc1"_s);
    QCOMPARE(byId[u"b2"_s].status, u"queued"_s);
    QCOMPARE(byId[u"r1"_s].status, u"failed"_s);
    QCOMPARE(byId[u"r1"_s].error, u"timeout"_s);
    QCOMPARE(byId[u"r1"_s].worldId, u"w1"_s);
    // b2 is open: stuck once it has been idle longer than the threshold.
    QCOMPARE(await(projector->jobs(10, 3600 * 1000))->size(), 0);
    QTRY_COMPARE(await(projector->jobs(10, 1))->size(), 1);

    const auto timeline = await(projector->timeline(u"w1"_s, 10));
    QCOMPARE(timeline->size(), 4);  // three rolls and the story event
    QCOMPARE(timeline->first().eventType, u"StoryEventCreated"_s);

    qint64 total = 0;
    for (const MinuteCount &m : await(projector->eventsPerMinute(QDateTime::currentDateTimeUtc().addSecs(-3600))).value())
        total += m.count;
    QCOMPARE(total, 11);

    // A restart resumes from the projection's own cursor: nothing counted twice.
    projector = std::make_unique<Projector>(store, notifier, *store.desk());
    projector->start();
    QVERIFY(await(bus.publish(roll(u"w1"_s, u"pc1"_s, true))).ok());
    QTRY_COMPARE(projector->cursor(), 12);
    stats = await(projector->challengeStats());
    QCOMPARE(stats->at(0).attempts, 3);
    QCOMPARE(stats->at(0).successes, 2);
}

QTEST_GUILESS_MAIN(TestProjector)
#include "tst_projector.moc"
