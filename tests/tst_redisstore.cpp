// The Redis Streams store against a real redis-server on 127.0.0.1: ids,
// reads, filters, cursors, notification across stores, forwarding exactly
// once, prune, statistics, the command line and two servers in one session
// (URLs: tst_redisurl; faults: tst_redisfaults).
#include "BusNotifier.h"
#include "SessionServer.h"
#include "EventCodec.h"
#include "Forwarder.h"
#include "RedisEventStore.h"
#include "RedisTestServer.h"
#include "Retention.h"
#include "StoreScans.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "Subscriber.h"
#include "TestSupport.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <memory>

using namespace eventdesk;
using namespace eventdesk::test;
using namespace Qt::StringLiterals;


class TestRedisStore : public QObject
{
    Q_OBJECT

private:
    QString m_address;                       // host:port of the shared server
    std::unique_ptr<RedisTestServer> m_own;  // when the test command did not start one

    QString url(const QString &stream, const QString &extra = {}) const
    {
        return u"redis://%1/0?stream=%2%3"_s.arg(m_address, stream, extra);
    }

    std::unique_ptr<RedisEventStore> open(const QString &stream, const QString &extra = {})
    {
        return openRedisStore(m_address, stream, extra);
    }

private Q_SLOTS:
    void initTestCase()
    {
        EVENTDESK_REQUIRE_REDIS_SERVER();
        m_address = sharedRedisAddress(m_own);
        QVERIFY2(!m_address.isEmpty(), "no redis-server to test against");
    }

    void appendAndRead()
    {
        auto store = open(uniqueStream("append"));
        const Result<qint64> head = await(store->headId());
        QVERIFY2(head.ok(), why(head));
        QCOMPARE(head.value(), 0);
        const BatchPublishResult first = await(store->append({story(u"w1"_s, u"a"_s)}));
        QVERIFY2(first.ok(), why(first));
        QCOMPARE(first.value(), QList<qint64>{1});
        QList<AppEvent> all;
        for (EventKind k : allKinds())
            all.append(sampleEvent(k, true));
        const BatchPublishResult batch = await(store->append(all));
        QVERIFY(batch.ok());
        QCOMPARE(batch->size(), all.size());
        for (int i = 0; i < batch->size(); ++i)
            QCOMPARE(batch->at(i), qint64(2 + i));
        QCOMPARE(await(store->headId()).value(), qint64(1 + all.size()));

        const auto rows = await(store->fetchSince(0, 100));
        QVERIFY(rows.ok());
        QCOMPARE(rows->size(), 1 + all.size());
        for (int i = 0; i < all.size(); ++i) {
            const StoredEvent &r = rows->at(1 + i);
            QVERIFY2(r.isDecoded(), qPrintable(r.decodeError));
            QCOMPARE(*r.event, all[i]);
            QCOMPARE(r.eventType, all[i].typeName());
            QVERIFY(r.createdAt.isValid());
            QVERIFY(!r.processed);
        }
        QCOMPARE(ids(await(store->fetchSince(3, 2)).value()), (QList<qint64>{4, 5}));
        QVERIFY(await(store->fetchSince(1000, 10))->isEmpty());
        QCOMPARE(await(store->distinctWorlds()).value(), QStringList{u"w1"_s});
        QCOMPARE(await(store->count({})).value(), qint64(1 + all.size()));
        QCOMPARE(await(store->append({})).value(), QList<qint64>{});
    }

    void idsUniqueAcrossStores()
    {
        // Two processes' worth of stores on one stream, appending at once.
        const QString stream = uniqueStream("ids");
        auto a = open(stream);
        auto b = open(stream);
        QList<QFuture<BatchPublishResult>> pending;
        for (int i = 0; i < 200; ++i) {
            pending.append(a->append({story(u"w1"_s, u"a%1"_s.arg(i))}));
            pending.append(b->append({story(u"w2"_s, u"b%1"_s.arg(i)), story(u"w2"_s, u"b%1+"_s.arg(i))}));
        }
        QSet<qint64> seen;
        for (auto &f : pending) {
            const BatchPublishResult r = await(f);
            QVERIFY(r.ok());
            for (qint64 id : r.value())
                QVERIFY2(!seen.contains(id), "an id handed out twice");
            for (qint64 id : r.value())
                seen.insert(id);
        }
        QCOMPARE(seen.size(), 600);
        const auto rows = await(a->fetchSince(0, 1000));
        QCOMPARE(rows->size(), 600);
        for (int i = 0; i < rows->size(); ++i)
            QCOMPARE(rows->at(i).id, qint64(i + 1));  // dense and in order
        // A batch's events are next to each other: one script, nothing in between.
        for (int i = 0; i < rows->size(); ++i) {
            const QString id = std::get<events::StoryEventCreated>(rows->at(i).event->data()).storyEventId;
            if (id.startsWith(u'b') && !id.endsWith(u'+')) {
                const QString next = std::get<events::StoryEventCreated>(rows->at(i + 1).event->data()).storyEventId;
                QCOMPARE(next, id + u'+');
            }
        }
    }

    void pagesAndCounts()
    {
        auto store = open(uniqueStream("pages"));
        QList<AppEvent> evs;
        for (int i = 0; i < 30; ++i) {
            if (i % 3 == 0)
                evs.append(story(u"w1"_s, u"s%1"_s.arg(i)));
            else if (i % 3 == 1)
                evs.append(sampleEvent(EventKind::ChallengeResolved, true, u"w2"_s));
            else
                evs.append(sampleEvent(EventKind::GenerationBatchProgress, false));  // no world
        }
        QVERIFY(await(store->append(evs)).ok());

        EventQuery q;
        q.worlds = {u"w1"_s};
        q.limit = 4;
        QCOMPARE(ids(await(store->fetchPage(q)).value()), (QList<qint64>{1, 4, 7, 10}));
        QCOMPARE(await(store->count(q)).value(), 10);
        q.newestFirst = true;
        QCOMPARE(ids(await(store->fetchPage(q)).value()), (QList<qint64>{28, 25, 22, 19}));
        q.beforeId = 22;
        QCOMPARE(ids(await(store->fetchPage(q)).value()), (QList<qint64>{19, 16, 13, 10}));
        QCOMPARE(await(store->count(q)).value(), 7);
        // By position: skip matching rows in the query's order; a count ignores it.
        q.offset = 2;
        QCOMPARE(ids(await(store->fetchPage(q)).value()), (QList<qint64>{13, 10, 7, 4}));
        QCOMPARE(await(store->count(q)).value(), 7);
        q.newestFirst = false;
        q.beforeId = 0;
        q.offset = 8;
        QCOMPARE(ids(await(store->fetchPage(q)).value()), (QList<qint64>{25, 28}));
        q.offset = 10;
        QVERIFY(await(store->fetchPage(q))->isEmpty());
        q.offset = 0;

        EventQuery noWorld;
        noWorld.worlds = {QString()};
        noWorld.limit = 100;
        QCOMPARE(await(store->fetchPage(noWorld))->size(), 10);
        EventQuery kinds;
        kinds.kinds = {EventKind::ChallengeResolved};
        kinds.afterId = 20;
        QCOMPARE(ids(await(store->fetchPage(kinds)).value()), (QList<qint64>{23, 26, 29}));
        EventQuery text;
        text.text = u"S27"_s;  // case-insensitive
        QCOMPARE(ids(await(store->fetchPage(text)).value()), QList<qint64>{28});
        QCOMPARE(await(store->distinctWorlds()).value(), (QStringList{u"w1"_s, u"w2"_s}));
        EventQuery none;
        none.limit = 0;
        QVERIFY(await(store->fetchPage(none))->isEmpty());
    }

    void processedMarks()
    {
        auto store = open(uniqueStream("processed"));
        QVERIFY(await(store->append({story(u"w1"_s, u"a"_s), story(u"w1"_s, u"b"_s)})).ok());
        QCOMPARE(await(store->markProcessed({2, 99}, true)).value(), 1);  // 99 does not exist
        QCOMPARE(await(store->markProcessed({2}, true)).value(), 0);      // already
        auto rows = await(store->fetchSince(0, 10)).value();
        QVERIFY(!rows[0].processed);
        QVERIFY(rows[1].processed);
        QVERIFY(rows[1].processedAt.isValid());
        QCOMPARE(await(store->markProcessed({2}, false)).value(), 1);
        QVERIFY(!await(store->fetchSince(1, 10)).value().at(0).processed);
    }

    void cursorsPersistAsConsumerGroups()
    {
        const QString stream = uniqueStream("cursor");
        {
            auto store = open(stream);
            QCOMPARE(await(store->loadCursor(u"projector"_s)).value(), 0);  // no stream yet
            QVERIFY(await(store->append({story(u"w1"_s, u"a"_s)})).ok());
            QCOMPARE(await(store->loadCursor(u"projector"_s)).value(), 0);
            QVERIFY(await(store->saveCursor(u"projector"_s, 1)).ok());
            QVERIFY(await(store->saveCursor(u"session server"_s, 1)).ok());
        }
        auto again = open(stream);
        QCOMPARE(await(again->loadCursor(u"projector"_s)).value(), 1);
        QCOMPARE(await(again->loadCursor(u"session server"_s)).value(), 1);
        // Redis's own tools see the subscribers and their lag.
        const QByteArray groups = redisCli(m_address, {u"XINFO"_s, u"GROUPS"_s, stream});
        QVERIFY2(groups.contains("projector") && groups.contains("1-0"), groups.constData());
    }

    void namedSubscriberResumes()
    {
        const QString stream = uniqueStream("resume");
        auto store = open(stream);
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        QList<qint64> seen;
        {
            Subscriber sub(*store, notifier, Subscriber::Options{u"narrator"_s});
            connect(&sub, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &rows) { seen += ids(rows); });
            sub.start();
            for (int i = 0; i < 5; ++i)
                QVERIFY(await(bus.publish(story(u"w1"_s, u"x%1"_s.arg(i)))).ok());
            QTRY_COMPARE(seen.size(), 5);
            QTRY_COMPARE(await(store->loadCursor(u"narrator"_s)).value(), 5);
        }
        for (int i = 0; i < 3; ++i)
            QVERIFY(await(bus.publish(story(u"w1"_s, u"y%1"_s.arg(i)))).ok());
        Subscriber again(*store, notifier, Subscriber::Options{u"narrator"_s});
        connect(&again, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &rows) { seen += ids(rows); });
        again.start();
        QTRY_COMPARE(seen.size(), 8);
        QCOMPARE(seen, (QList<qint64>{1, 2, 3, 4, 5, 6, 7, 8}));
    }

    // A Redis without persistence, restarted, hands out ids from 1 again: the
    // subscriber says so and reads the new log from its start, skipping
    // nothing. Also when the node publishes from a producer thread (on that
    // thread's own connection) and another node begins the new log first:
    // this node's next event follows the other's (it does not go on from the
    // id it knew), and those are read too.
    void resetStreamIsDetected_data()
    {
        QTest::addColumn<bool>("fromThread");
        QTest::addColumn<int>("othersFirst");
        QTest::newRow("main thread") << false << 0;
        QTest::newRow("producer thread, another node first") << true << 2;
    }
    void resetStreamIsDetected()
    {
        QFETCH(bool, fromThread);
        QFETCH(int, othersFirst);
        const QString stream = uniqueStream("reset");
        auto store = open(stream);
        auto other = open(stream);
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        Subscriber sub(*store, notifier, Subscriber::Options{});
        QList<qint64> seen;
        QList<std::pair<qint64, qint64>> wentBack;
        connect(&sub, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &rows) { seen += ids(rows); });
        connect(&sub, &Subscriber::logWentBack, this, [&](qint64 was, qint64 head) { wentBack.append({was, head}); });
        sub.start();
        const auto publish = [&](const QString &what) {
            const AppEvent event = story(u"w1"_s, what);
            return fromThread ? publishOnOwnThread(bus, event) : await(bus.publish(event));
        };
        for (int i = 0; i < 5; ++i)
            QCOMPARE(publish(u"before%1"_s.arg(i)).value(), qint64(i + 1));
        QTRY_COMPARE(seen.size(), 5);
        // What a restart without persistence leaves: none of the stream's keys.
        for (const QString &suffix : {QString(), u":seq"_s, u":worlds"_s, u":processed"_s})
            redisCli(m_address, {u"DEL"_s, stream + suffix});
        QList<qint64> expected{1, 2, 3, 4, 5};
        for (int i = 0; i < othersFirst; ++i)
            QCOMPARE(await(other->append({story(u"w1"_s, u"theirs%1"_s.arg(i))})).value(), QList<qint64>{i + 1});
        QCOMPARE(publish(u"after0"_s).value(), othersFirst + 1);
        QCOMPARE(publish(u"after1"_s).value(), othersFirst + 2);
        for (int id = 1; id <= othersFirst + 2; ++id)
            expected.append(id);
        QTRY_COMPARE(wentBack.size(), 1);
        QCOMPARE(wentBack.first().first, 5);
        QTRY_COMPARE(seen, expected);
    }

    void otherStoreWakesSubscribers()
    {
        // Two nodes: what one publishes, the other's subscriber sees, in order.
        const QString stream = uniqueStream("nodes");
        auto a = open(stream);
        auto b = open(stream);
        BusNotifier notifierA(30000), notifierB(30000);
        connect(b.get(), &RedisEventStore::externalRowsDetected, &notifierB, &BusNotifier::externalRowsDetected);
        StoreEventBus busA(*a, notifierA);
        Subscriber sub(*b, notifierB, Subscriber::Options{});
        QList<qint64> seen;
        connect(&sub, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &rows) { seen += ids(rows); });
        sub.start();
        QTRY_VERIFY(sub.isCaughtUp());
        for (int i = 0; i < 50; ++i)
            busA.publish(story(u"w1"_s, u"n%1"_s.arg(i)));
        QTRY_COMPARE(seen.size(), 50);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(seen[i], qint64(i + 1));
    }

    void foreignEntriesNeverStopReaders()
    {
        const QString stream = uniqueStream("foreign");
        auto store = open(stream);
        QVERIFY(await(store->append({story(u"w1"_s, u"ok"_s)})).ok());
        // Someone else's entries: no payload, a payload that is not JSON, a hostile one.
        QCOMPARE(redisCli(m_address, {u"XADD"_s, stream, u"2-0"_s, u"hello"_s, u"world"_s}), QByteArray("2-0"));
        QCOMPARE(redisCli(m_address, {u"XADD"_s, stream, u"3-0"_s, u"type"_s, u"StoryEventCreated"_s, u"payload"_s, u"{not json"_s}),
                 QByteArray("3-0"));
        QCOMPARE(redisCli(m_address, {u"XADD"_s, stream, u"4-0"_s, u"payload"_s, QString(u'[').repeated(5000)}), QByteArray("4-0"));
        QVERIFY(await(store->append({story(u"w1"_s, u"after"_s)})).ok());
        const auto rows = await(store->fetchSince(0, 10)).value();
        QCOMPARE(ids(rows), (QList<qint64>{1, 2, 3, 4, 5}));
        QVERIFY(rows[0].isDecoded());
        QVERIFY(rows[1].decodeError.contains(u"no payload"_s));
        QVERIFY(!rows[2].isDecoded() && !rows[2].decodeError.isEmpty());
        QVERIFY(!rows[3].isDecoded());
        QVERIFY(rows[4].isDecoded());
    }

    void oversizedEventIsRefused()
    {
        auto store = open(uniqueStream("big"));
        events::SuggestionCompleted big{u"r"_s, u"npc_name"_s, {}, std::nullopt};
        for (int i = 0; i < 40; ++i)
            big.suggestions.append(QString(30000, u'x'));
        const BatchPublishResult r = await(store->append({AppEvent(big)}));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::TooLarge);
        QCOMPARE(await(store->headId()).value(), 0);
    }

    void trimmingKeepsIdsGoingUp()
    {
        auto store = open(uniqueStream("trim"));
        for (int i = 0; i < 10; ++i)
            QVERIFY(await(store->append({story(u"w1"_s, u"t%1"_s.arg(i))})).ok());
        QVERIFY(await(store->markProcessed({3, 8}, true)).ok());
        QCOMPARE(await(store->trimUpTo(5)).value(), 5);
        QCOMPARE(ids(await(store->fetchSince(0, 100)).value()), (QList<qint64>{6, 7, 8, 9, 10}));
        QVERIFY(await(store->fetchSince(0, 100)).value().at(2).processed);
        QCOMPARE(await(store->trimUpTo(10)).value(), 5);
        QCOMPARE(await(store->headId()).value(), 10);  // empty, but ids never go back
        QCOMPARE(await(store->append({story(u"w1"_s, u"next"_s)})).value(), QList<qint64>{11});
    }

    void pruneArchivesThenTrims()
    {
        QTemporaryDir dir;
        auto store = open(uniqueStream("prune"));
        for (int i = 0; i < 10; ++i)
            QVERIFY(await(store->append({story(u"w1"_s, u"p%1"_s.arg(i))})).ok());
        QVERIFY(await(store->markProcessed({1, 2, 3, 4, 6}, true)).ok());
        PruneOptions options;
        options.cutoff = QDateTime::currentDateTimeUtc().addSecs(60);
        options.dryRun = true;
        PruneReport report = await(pruneStream(*store, options, dir.path(), nullptr)).value();
        QCOMPARE(report.matched, 10);
        QCOMPARE(report.keptUnprocessed, 6);  // a stream is trimmed from its start: 5 stops it
        QCOMPARE(await(store->count({})).value(), 10);

        options.dryRun = false;
        options.pageSize = 3;
        report = await(pruneStream(*store, options, dir.path(), nullptr)).value();
        QCOMPARE(report.deleted, 4);
        QCOMPARE(report.firstId, 1);
        QCOMPARE(report.lastId, 4);
        QCOMPARE(report.transactions, 2);
        QCOMPARE(ids(await(store->fetchSince(0, 100)).value()), (QList<qint64>{5, 6, 7, 8, 9, 10}));
        const QList<QByteArray> archived = readArchive(report.archivePath).value();
        QCOMPARE(archived.size(), 4);
        QVERIFY(archived[0].startsWith("{\"id\":1,"));

        options.includeUnprocessed = true;
        options.archivePath = dir.filePath(u"rest.jsonl.gz"_s);
        report = await(pruneStream(*store, options, dir.path(), nullptr)).value();
        QCOMPARE(report.deleted, 6);
        QCOMPARE(readArchive(options.archivePath)->size(), 6);
        QCOMPARE(await(store->count({})).value(), 0);
        // An archive that exists already is never overwritten.
        const Result<PruneReport> again = await(pruneStream(*store, options, dir.path(), nullptr));
        QVERIFY(again.ok());  // nothing left to prune, so nothing written
        QVERIFY(await(store->append({story(u"w1"_s, u"later"_s)})).ok());
        options.cutoff = QDateTime::currentDateTimeUtc().addSecs(60);
        const Result<PruneReport> clash = await(pruneStream(*store, options, dir.path(), nullptr));
        QVERIFY(!clash.ok());
        QVERIFY(clash.error().message.contains(u"rest.jsonl.gz"_s));
        QCOMPARE(await(store->count({})).value(), 1);  // kept: its archive could not be written
    }

    void statisticsFromTheStream()
    {
        auto store = open(uniqueStream("stats"));
        QList<AppEvent> evs{story(u"w1"_s, u"a"_s), story(u"w2"_s, u"b"_s), sampleEvent(EventKind::ChallengeResolved, true, u"w1"_s),
                            sampleEvent(EventKind::GenerationBatchProgress, false)};
        events::ChallengeResolved failed = std::get<events::ChallengeResolved>(sampleEvent(EventKind::ChallengeResolved, true, u"w1"_s).data());
        failed.success = false;
        evs.append(failed);
        QVERIFY(await(store->append(evs)).ok());
        const BusStatistics st = await(collectStatistics(*store)).value();
        QCOMPARE(st.total, 5);
        QCOMPARE(st.headId, 5);
        QCOMPARE(st.lastHour, 5);
        QCOMPARE(st.perType.first().key, u"ChallengeResolved"_s);
        QCOMPARE(st.perType.first().count, 2);
        QCOMPARE(st.perWorld.first().key, u"w1"_s);
        QCOMPARE(st.perWorld.first().count, 3);
        QCOMPARE(st.challenges.size(), 1);
        QCOMPARE(st.challenges[0].attempts, 2);
        QCOMPARE(st.challenges[0].successes, 1);
    }

    void maxLengthTrimsOnAppend()
    {
        auto store = open(uniqueStream("maxlen"), u"&maxlen=100"_s);
        for (int i = 0; i < 10; ++i) {
            QList<AppEvent> batch;
            for (int j = 0; j < 100; ++j)
                batch.append(story(u"w1"_s, u"m"_s));
            QVERIFY(await(store->append(batch)).ok());
        }
        const qint64 length = await(store->count({})).value();
        QVERIFY2(length >= 100 && length < 1000, QByteArray::number(length).constData());  // "~": about 100
        QCOMPARE(await(store->headId()).value(), 1000);
    }

    void forwardedRowsLandOnce()
    {
        QTemporaryDir dir;
        SqliteEventStore engine(SqliteOptions{dir.filePath(u"engine.db"_s)});
        QVERIFY(engine.openAndWait().ok());
        QList<std::pair<QString, QByteArray>> raw;
        for (int i = 0; i < 20; ++i)
            raw.append({u"StoryEventCreated"_s, codec::encode(story(u"w%1"_s.arg(i % 2), u"e%1"_s.arg(i)))});
        raw.append({u"SomethingNew"_s, QByteArray("{\"type\":\"SomethingNew\",\"x\":1}")});  // a newer engine's event
        QVERIFY(await(engine.appendRaw(raw)).ok());

        const QString stream = uniqueStream("forward");
        auto redis = open(stream);
        // A batch sent twice (a reply lost, a restart) lands once.
        QList<RedisRow> rows;
        for (const StoredEvent &e : await(engine.fetchSince(0, 10)).value())
            rows.append(RedisRow{e.eventType, e.payload, e.createdAtText, e.event->worldId(), e.id});
        QCOMPARE(await(redis->appendForwarded(u"engine"_s, rows))->size(), 10);
        QCOMPARE(await(redis->appendForwarded(u"engine"_s, rows))->size(), 0);
        QCOMPARE(await(redis->appendForwarded(u"engine"_s, rows.mid(5)))->size(), 0);
        QCOMPARE(await(redis->forwardCursor(u"engine"_s)).value(), 10);

        // The forwarder picks up from the cursor in Redis, and follows new rows.
        BusNotifier engineNotifier(30000);
        connect(&engine, &SqliteEventStore::externalRowsDetected, &engineNotifier, &BusNotifier::externalRowsDetected);
        Forwarder forwarder(engine, engineNotifier, *redis, Forwarder::Options{u"engine"_s});
        forwarder.start();
        QTRY_COMPARE(await(redis->count({})).value(), 21);
        QVERIFY(await(engine.appendRaw({{u"StoryEventCreated"_s, codec::encode(story(u"w1"_s, u"late"_s))}})).ok());
        engineNotifier.notifyAppended(22);
        QTRY_COMPARE(await(redis->count({})).value(), 22);
        const auto all = await(redis->fetchSince(0, 100)).value();
        for (int i = 0; i < all.size(); ++i) {
            const StoredEvent source = await(engine.fetchSince(i, 1)).value().at(0);
            QCOMPARE(all[i].payload, source.payload);
            QCOMPARE(all[i].createdAtText, source.createdAtText);
            QCOMPARE(all[i].eventType, source.eventType);
        }
        QVERIFY(!all[20].isDecoded());  // carried as it was
        QCOMPARE(await(redis->distinctWorlds()).value(), (QStringList{u"w0"_s, u"w1"_s}));
    }

    // Messages of today's engine kept by `eventdesk record`: each entry keeps
    // its world in a field of its own, so filters, worlds and forwarding treat
    // them as on SQLite; a recorded message is never an AppEvent, whatever its tag.
    void recordedMessagesKeepTheirWorld_data()
    {
        QTest::addColumn<QString>("extra");
        QTest::newRow("plain") << QString();
        QTest::newRow("with maxlen") << u"&maxlen=1000"_s;
    }
    void recordedMessagesKeepTheirWorld()
    {
        QFETCH(QString, extra);
        auto store = open(uniqueStream("recorded"), extra);
        const QByteArray dialogue = R"({"type":"DialogueResponse","speaker_name":"Mara","text":"Hm.","choices":[]})";
        // Its tag is an AppEvent's, but the engine's shape: kept as the engine's.
        const QByteArray resolved = R"({"type":"ChallengeResolved","challenge_id":"c1","challenge_name":"Climb","character_name":"Aria","roll":12,"modifier":2,"total":14,"outcome":"success","outcome_description":"Up."})";
        QVERIFY(await(store->append({story(u"w0"_s, u"before"_s)})).ok());
        const BatchPublishResult added = await(store->appendRecorded({
            {u"DialogueResponse"_s, dialogue, u"2026-12-07T20:00:00.000Z"_s, u"w1"_s},
            {u"ChallengeResolved"_s, resolved, {}, u"w1"_s},
            {u"SomethingNewer"_s, QByteArray(R"({"type":"SomethingNewer"})"), {}, u"w2"_s},
        }));
        QVERIFY2(added.ok(), why(added));
        QCOMPARE(added.value(), (QList<qint64>{2, 3, 4}));
        const auto rows = await(store->fetchSince(1, 10)).value();
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows[0].payload, dialogue);
        QCOMPARE(rows[0].createdAtText, u"2026-12-07T20:00:00.000Z"_s);
        QCOMPARE(rows[1].payload, resolved);
        for (const StoredEvent &r : rows) {
            QVERIFY(r.isEngineMessage());
            QVERIFY(!r.isDecoded());
            QCOMPARE(r.engineTag, r.eventType);
        }
        QCOMPARE(rows[0].worldId(), u"w1"_s);
        QCOMPARE(rows[2].worldId(), u"w2"_s);

        EventQuery w1;
        w1.worlds = {u"w1"_s};
        QCOMPARE(ids(await(store->fetchPage(w1)).value()), (QList<qint64>{2, 3}));
        EventQuery tag;
        tag.tags = {u"DialogueResponse"_s};
        QCOMPARE(ids(await(store->fetchPage(tag)).value()), QList<qint64>{2});
        EventQuery meant;  // a kind keeps the engine's messages that mean it
        meant.kinds = {EventKind::ChallengeResolved};
        QCOMPARE(ids(await(store->fetchPage(meant)).value()), QList<qint64>{3});
        QCOMPARE(await(store->distinctWorlds()).value(), (QStringList{u"w0"_s, u"w1"_s, u"w2"_s}));

        // Forwarded from SQLite (where the desk keeps the world), they stay recorded.
        QTemporaryDir dir;
        SqliteEventStore sqlite(SqliteOptions{dir.filePath(u"rec.db"_s)});
        QVERIFY(sqlite.openAndWait().ok());
        QVERIFY(await(sqlite.appendRecorded({{u"DialogueResponse"_s, dialogue, {}, u"w3"_s}})).ok());
        auto target = open(uniqueStream("recorded-forward"), extra);
        BusNotifier notifier(30000);
        Forwarder forwarder(sqlite, notifier, *target, Forwarder::Options{u"rec"_s});
        forwarder.start();
        QTRY_COMPARE(await(target->count({})).value(), 1);
        const StoredEvent forwarded = await(target->fetchSince(0, 1)).value().at(0);
        QVERIFY(forwarded.isEngineMessage());
        QCOMPARE(forwarded.worldId(), u"w3"_s);
        QCOMPARE(forwarded.payload, dialogue);
    }

    void forwardCommandSurvivesKills()
    {
        // `eventdesk forward` killed over and over while the engine writes: each row once.
        QTemporaryDir dir;
        const QString db = dir.filePath(u"engine.db"_s);
        SqliteEventStore engine(SqliteOptions{db});
        QVERIFY(engine.openAndWait().ok());
        const QString stream = uniqueStream("fwdkill");
        const QString bus = url(stream);
        auto redisStore = open(stream);
        int written = 0;
        for (int round = 0; round < 6; ++round) {
            QList<std::pair<QString, QByteArray>> raw;
            for (int i = 0; i < 300; ++i, ++written)
                raw.append({u"StoryEventCreated"_s, codec::encode(story(u"w1"_s, u"k%1"_s.arg(written)))});
            QVERIFY(await(engine.appendRaw(raw)).ok());
            QProcess forward;
            forward.setProcessChannelMode(QProcess::ForwardedOutputChannel);
            const qint64 before = await(redisStore->count({})).value();
            forward.start(QStringLiteral(EVENTDESK_BINARY), {u"forward"_s, u"--db"_s, db, u"--bus"_s, bus});
            QVERIFY(forward.waitForStarted());
            // Killed as soon as it has moved some rows: mid-way through the backlog.
            QTRY_VERIFY(await(redisStore->count({})).value() > before || forward.state() == QProcess::NotRunning);
            forward.kill();
            forward.waitForFinished();
        }
        QProcess last;
        last.start(QStringLiteral(EVENTDESK_BINARY), {u"forward"_s, u"--db"_s, db, u"--bus"_s, bus, u"--once"_s});
        QVERIFY(last.waitForFinished(60000));
        QCOMPARE(last.exitCode(), 0);
        const auto rows = await(redisStore->fetchSince(0, 10000)).value();
        QCOMPARE(rows.size(), written);
        for (int i = 0; i < rows.size(); ++i)
            QCOMPARE(std::get<events::StoryEventCreated>(rows[i].event->data()).storyEventId, u"k%1"_s.arg(i));
    }

    void commandLineOnRedis()
    {
        QTemporaryDir dir;
        const QString bus = url(uniqueStream("cli"));
        const auto run = [&](const QStringList &args, const QByteArray &input = {}) {
            QProcess p;
            p.start(QStringLiteral(EVENTDESK_BINARY), args + QStringList{u"--db"_s, dir.filePath(u"book.db"_s)});
            p.write(input);
            p.closeWriteChannel();
            p.waitForFinished(60000);
            return std::tuple{p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
        };
        QFile engine(QStringLiteral(EVENTDESK_TEST_DATA "/engine_payloads.jsonl"));
        QVERIFY(engine.open(QIODevice::ReadOnly));
        const QByteArray lines = engine.readAll();
        auto [code, out, err] = run({u"publish"_s, u"--bus"_s, bus}, lines);
        QCOMPARE(code, 0);
        QCOMPARE(out.trimmed().split('\n').size(), lines.trimmed().split('\n').size());
        std::tie(code, out, err) = run({u"tail"_s, u"--bus"_s, bus, u"--format"_s, u"jsonl"_s});
        QCOMPARE(code, 0);
        QVERIFY(out.startsWith("{\"id\":1,\"event_type\":\"StoryEventCreated\""));
        std::tie(code, out, err) = run({u"stats"_s, u"--bus"_s, bus, u"--format"_s, u"json"_s});
        QCOMPARE(code, 0);
        QCOMPARE(QJsonDocument::fromJson(out).object()[u"total"_s].toInt(), lines.trimmed().split('\n').size());

        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        std::tie(code, out, err) = run({u"tail"_s, u"--bus"_s, u"redis://127.0.0.1:%1/0"_s.arg(port)});
        QCOMPARE(code, 1);
        QCOMPARE(err.count('\n'), 1);
        QVERIFY2(err.contains("is unavailable: Connection refused"), err);
        std::tie(code, out, err) = run({u"publish"_s, u"--bus"_s, u"redis://:guess@%1/0"_s.arg(m_address), u"--json"_s, u"{}"_s});
        QCOMPARE(code, 1);
        QVERIFY2(err.contains("Redis refused the password") && !err.contains("guess"), err);
    }

    void twoServersOneSession()
    {
        QTemporaryDir dir;
        const QString bus = url(uniqueStream("serve"));
        const QString token = u"0123456789abcdef0123456789abcdef"_s;
        const auto startServe = [&](QProcess &p, const QString &name) -> QUrl {
            p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
            p.start(QStringLiteral(EVENTDESK_BINARY), {u"serve"_s, u"--db"_s, dir.filePath(name), u"--bus"_s, bus, u"--listen"_s,
                                                       u"127.0.0.1:0"_s, u"--join-code"_s, u"TABLE42"_s, u"--dm-token"_s, token,
                                                       u"--world"_s, u"w1"_s});
            if (!p.waitForReadyRead(30000))
                return {};
            const QByteArray line = p.readLine().trimmed();
            const qsizetype at = line.indexOf("ws://");
            return at < 0 ? QUrl() : QUrl(QString::fromUtf8(line.mid(at)));
        };
        QProcess serveA, serveB;
        const QUrl urlA = startServe(serveA, u"a.db"_s);
        const QUrl urlB = startServe(serveB, u"b.db"_s);
        QVERIFY(urlA.isValid() && urlB.isValid());

        struct Client {
            QWebSocket socket;
            QList<QJsonObject> messages;
        };
        const auto join = [&](Client &c, const QUrl &where, const QJsonObject &join) {
            connect(&c.socket, &QWebSocket::textMessageReceived, this,
                    [&c](const QString &text) { c.messages.append(QJsonDocument::fromJson(text.toUtf8()).object()); });
            c.socket.open(where);
            if (!QTest::qWaitFor([&] { return c.socket.state() == QAbstractSocket::ConnectedState; }, 10000))
                return false;
            c.socket.sendTextMessage(QString::fromUtf8(QJsonDocument(join).toJson(QJsonDocument::Compact)));
            return QTest::qWaitFor([&] { return !c.messages.isEmpty(); }, 10000) && c.messages.first()[u"type"_s] == u"Joined"_s;
        };
        const auto events = [](const Client &c) {
            QList<QJsonObject> out;
            for (const QJsonObject &m : c.messages)
                if (m.contains(u"seq"_s) && m[u"type"_s] != u"Published"_s)
                    out.append(m);
            return out;
        };
        Client dm, player;
        QVERIFY(join(dm, urlA, {{u"type"_s, u"Join"_s}, {u"role"_s, u"dm"_s}, {u"world_id"_s, u"*"_s}, {u"name"_s, u"DM"_s}, {u"dm_token"_s, token}}));
        QVERIFY(join(player, urlB, {{u"type"_s, u"Join"_s}, {u"role"_s, u"player"_s}, {u"world_id"_s, u"w1"_s}, {u"name"_s, u"Alice"_s},
                                    {u"join_code"_s, SessionServer::worldJoinCode(u"TABLE42"_s, u"w1"_s)}}));
        const auto publish = [&](const QString &world, const QString &id) {
            const QJsonObject ev{{u"type"_s, u"StoryEventCreated"_s}, {u"story_event_id"_s, id}, {u"world_id"_s, world}, {u"event_type"_s, u"dialogue"_s}};
            dm.socket.sendTextMessage(QString::fromUtf8(QJsonDocument(QJsonObject{{u"type"_s, u"Publish"_s}, {u"event"_s, ev}}).toJson(QJsonDocument::Compact)));
        };
        for (int i = 0; i < 10; ++i)
            publish(i % 2 ? u"w2"_s : u"w1"_s, u"s%1"_s.arg(i));
        QTRY_COMPARE_WITH_TIMEOUT(events(player).size(), 5, 15000);
        qint64 last = 0;
        for (const QJsonObject &m : events(player)) {
            QCOMPARE(m[u"world_id"_s].toString(), u"w1"_s);
            QVERIFY(m[u"seq"_s].toInteger() > last);  // in order
            last = m[u"seq"_s].toInteger();
        }
        // The player drops, events go on being published on A, the player comes back on A.
        player.socket.close();
        QTRY_VERIFY(player.socket.state() == QAbstractSocket::UnconnectedState);
        for (int i = 10; i < 16; ++i)
            publish(u"w1"_s, u"s%1"_s.arg(i));
        QTRY_COMPARE_WITH_TIMEOUT(events(dm).size(), 16, 15000);
        Client back;
        QVERIFY(join(back, urlA, {{u"type"_s, u"Join"_s}, {u"role"_s, u"player"_s}, {u"world_id"_s, u"w1"_s}, {u"name"_s, u"Alice"_s},
                                  {u"join_code"_s, SessionServer::worldJoinCode(u"TABLE42"_s, u"w1"_s)}, {u"last_seq"_s, last}}));
        QTRY_COMPARE_WITH_TIMEOUT(events(back).size(), 6, 15000);
        QStringList ids;
        for (const QJsonObject &m : events(back)) {
            QVERIFY(m[u"seq"_s].toInteger() > last);
            last = m[u"seq"_s].toInteger();
            ids.append(m[u"story_event_id"_s].toString());
        }
        QCOMPARE(ids, (QStringList{u"s10"_s, u"s11"_s, u"s12"_s, u"s13"_s, u"s14"_s, u"s15"_s}));
        serveA.terminate();
        serveB.terminate();
        QVERIFY(serveA.waitForFinished(10000) && serveB.waitForFinished(10000));
        QCOMPARE(serveA.exitCode(), 0);
        QCOMPARE(serveB.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestRedisStore)
#include "tst_redisstore.moc"
