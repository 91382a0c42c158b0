// How the Redis store hands out ids, against a real redis-server on 127.0.0.1:
// producer threads that append on their own connection and the worker's
// queue at once, a counter that is behind the stream (entries another tool
// added, a counter deleted after a trim), an append Redis refuses half way,
// the set of worlds, which each connection fills once per world, what the
// replies of a store's own appends tell it of other nodes while its watch
// rests, and appends sent as MULTI/EXEC transactions, from the store's
// thread and from a producer thread's own connection (which never sends one
// on a connection that does not WATCH what it read, and writes its commands
// in Redis's protocol itself).
#include "BusNotifier.h"
#include "RedisAppend.h"
#include "RedisDirect.h"
#include "RedisEventStore.h"
#include "RedisTestServer.h"
#include "Subscriber.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QLoggingCategory>
#include <QProcess>
#include <QScopeGuard>
#include <QSet>
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace eventdesk;
using namespace eventdesk::test;
using namespace Qt::StringLiterals;

class TestRedisAppend : public QObject
{
    Q_OBJECT

private:
    QString m_address;
    std::unique_ptr<RedisTestServer> m_own;

    std::unique_ptr<RedisEventStore> open(const QString &stream) { return openRedisStore(m_address, stream); }

    QByteArray cli(const QStringList &args) const { return redisCli(m_address, args); }

    static QString storyId(const StoredEvent &r) { return std::get<events::StoryEventCreated>(r.event->data()).storyEventId; }

    static PublishResult publishFromThread(EventBus &bus, const QString &what) { return publishOnOwnThread(bus, story(u"w1"_s, what)); }

    static qint64 idOf(const PublishResult &r) { return r ? *r : -1; }

    // The ids of `stream` that a MONITOR saw added inside MULTI/EXEC (not by
    // the script), once it has seen `last`; the monitor is stopped.
    static QSet<QByteArray> idsInTransactions(QProcess &monitor, const QString &stream, const QByteArray &last)
    {
        QByteArray log;
        QDeadlineTimer patience(10000);
        while (!(log += monitor.readAll()).contains(QByteArray('"' + last + '"')) && !patience.hasExpired())
            monitor.waitForReadyRead(100);
        monitor.kill();
        monitor.waitForFinished();
        const QByteArray xadd = " \"XADD\" \"" + stream.toUtf8() + "\" \"";
        QSet<QByteArray> inTransaction;
        QSet<QByteArray> inMulti;  // the clients (address) inside MULTI
        for (const QByteArray &line : log.split('\n')) {
            const QByteArray client = line.mid(line.indexOf('['), line.indexOf(']') - line.indexOf('[') + 1);
            if (line.contains(" \"MULTI\""))
                inMulti.insert(client);
            else if (line.contains(" \"EXEC\"") || line.contains(" \"DISCARD\""))
                inMulti.remove(client);
            else if (const qsizetype at = line.indexOf(xadd); at >= 0 && inMulti.contains(client) && !line.contains(" lua]"))
                inTransaction.insert(line.mid(at + xadd.size()).split('"').value(0));
        }
        return inTransaction;
    }

private Q_SLOTS:
    void initTestCase()
    {
        EVENTDESK_REQUIRE_REDIS_SERVER();
        m_address = sharedRedisAddress(m_own);
        QVERIFY2(!m_address.isEmpty(), "no redis-server to test against");
    }

    // Four producer threads publish one at a time while the main thread keeps
    // publishes in flight through the worker. Every id is handed out once,
    // with no gap, and each thread's events are in the order it published.
    void producerThreadsAppendInTheirOrder()
    {
        auto store = open(uniqueStream("producers"));
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        constexpr int Threads = 4, PerThread = 150, FromMain = 300;
        std::vector<std::vector<qint64>> got(Threads);
        std::vector<int> failed(Threads, 0), answeredAtOnce(Threads, 0);
        std::vector<std::thread> producers;
        for (int t = 0; t < Threads; ++t) {
            producers.emplace_back([&, t] {
                for (int i = 0; i < PerThread; ++i) {
                    QFuture<PublishResult> f = bus.publish(story(u"w%1"_s.arg(t), u"t%1-%2"_s.arg(t).arg(i)));
                    answeredAtOnce[size_t(t)] += f.isFinished();  // sent on this thread: answered when publish returns
                    f.waitForFinished();
                    if (f.result().ok())
                        got[size_t(t)].push_back(f.result().value());
                    else
                        ++failed[size_t(t)];
                }
            });
        }
        QList<QFuture<PublishResult>> mainPublishes;
        for (int i = 0; i < FromMain; ++i) {
            mainPublishes.append(bus.publish(story(u"main"_s, u"m-%1"_s.arg(i))));
            if (i % 50 == 49)
                await(mainPublishes.last());
        }
        for (std::thread &p : producers)
            p.join();
        QList<qint64> mainIds;
        for (const QFuture<PublishResult> &f : std::as_const(mainPublishes)) {
            const PublishResult r = await(f);
            QVERIFY2(r.ok(), why(r));
            mainIds.append(r.value());
        }
        QVERIFY(std::is_sorted(mainIds.begin(), mainIds.end()));
        QList<qint64> all = mainIds;
        int direct = 0;
        for (int t = 0; t < Threads; ++t) {
            QCOMPARE(failed[size_t(t)], 0);
            QCOMPARE(int(got[size_t(t)].size()), PerThread);
            QVERIFY(std::is_sorted(got[size_t(t)].begin(), got[size_t(t)].end()));
            all += QList<qint64>(got[size_t(t)].begin(), got[size_t(t)].end());
            direct += answeredAtOnce[size_t(t)];
        }
        // How many went the direct way above depends on the timing: while
        // the worker has appends out, a producer's publish waits its turn there.
        qInfo("%d of %d producer-thread publishes were sent on their own thread", direct, Threads * PerThread);
        std::sort(all.begin(), all.end());
        for (qsizetype i = 0; i < all.size(); ++i)
            QCOMPARE(all[i], qint64(i + 1));
        // With the worker idle, a producer thread's publish is sent and answered on that thread.
        constexpr int Quiet = 5;
        int quietAtOnce = 0;
        std::thread([&] {
            for (int i = 0; i < Quiet; ++i) {
                QFuture<PublishResult> f = bus.publish(story(u"w0"_s, u"quiet-%1"_s.arg(i)));
                quietAtOnce += f.isFinished() && f.result().ok();
            }
        }).join();
        QCOMPARE(quietAtOnce, Quiet);
        // And what each id holds is what its publisher sent.
        const auto rows = await(store->fetchSince(0, 10000));
        QVERIFY(rows.ok());
        QCOMPARE(rows->size(), Threads * PerThread + FromMain + Quiet);
        for (int t = 0; t < Threads; ++t)
            for (int i = 0; i < PerThread; ++i)
                QCOMPARE(storyId(rows->at(got[size_t(t)][size_t(i)] - 1)), u"t%1-%2"_s.arg(t).arg(i));
        QCOMPARE(await(store->distinctWorlds()).value(), (QStringList{u"main"_s, u"w0"_s, u"w1"_s, u"w2"_s, u"w3"_s}));
    }

    // Entries someone else added with automatic ids are ahead of the counter:
    // the next id follows the stream's last entry, and the ids go on densely.
    void counterBehindForeignEntries()
    {
        const QString stream = uniqueStream("foreign");
        auto store = open(stream);
        QCOMPARE(await(store->append({story(u"w1"_s, u"a"_s)})).value(), QList<qint64>{1});
        const QByteArray foreign = cli({u"XADD"_s, stream, u"*"_s, u"hello"_s, u"world"_s});
        const qint64 foreignMs = foreign.left(foreign.indexOf('-')).toLongLong();
        QVERIFY2(foreignMs > 1, foreign.constData());
        QCOMPARE(await(store->append({story(u"w1"_s, u"b"_s), story(u"w1"_s, u"c"_s)})).value(),
                 (QList<qint64>{foreignMs + 1, foreignMs + 2}));
        QCOMPARE(await(store->append({story(u"w1"_s, u"d"_s)})).value(), QList<qint64>{foreignMs + 3});
        QCOMPARE(cli({u"GET"_s, stream + u":seq"_s}), QByteArray::number(foreignMs + 3));
    }

    // The counter deleted and the stream trimmed empty: the stream still
    // remembers its last id, and the next one follows it (never a reused id).
    void counterDeletedAfterTrim()
    {
        const QString stream = uniqueStream("reset");
        auto store = open(stream);
        QCOMPARE(await(store->append({story(u"w1"_s, u"a"_s), story(u"w1"_s, u"b"_s), story(u"w1"_s, u"c"_s)})).value(),
                 (QList<qint64>{1, 2, 3}));
        QCOMPARE(cli({u"XTRIM"_s, stream, u"MAXLEN"_s, u"0"_s}), QByteArray("3"));
        QCOMPARE(cli({u"DEL"_s, stream + u":seq"_s}), QByteArray("1"));
        QCOMPARE(await(store->append({story(u"w1"_s, u"d"_s)})).value(), QList<qint64>{4});
        QCOMPARE(await(store->headId()).value(), qint64(4));
    }

    // Redis refuses the append (the stream's key holds something else): the
    // error says so, and the counter is where it was, so no id is skipped.
    void refusedAppendLeavesNoGap()
    {
        const QString stream = uniqueStream("refused");
        auto store = open(stream);
        QCOMPARE(await(store->append({story(u"w1"_s, u"a"_s)})).value(), QList<qint64>{1});
        QCOMPARE(cli({u"DEL"_s, stream}), QByteArray("1"));
        QCOMPARE(cli({u"SET"_s, stream, u"not a stream"_s}), QByteArray("OK"));
        const BatchPublishResult refused = await(store->append({story(u"w1"_s, u"b"_s), story(u"w1"_s, u"c"_s)}));
        QVERIFY(!refused.ok());
        QVERIFY2(refused.error().message.contains(u"WRONGTYPE"_s), qPrintable(refused.error().message));
        QCOMPARE(cli({u"GET"_s, stream + u":seq"_s}), QByteArray("1"));
        QCOMPARE(cli({u"DEL"_s, stream}), QByteArray("1"));
        QCOMPARE(await(store->append({story(u"w1"_s, u"d"_s)})).value(), QList<qint64>{2});
    }

    // A forwarded batch skips rows it has seen; the rest get dense ids.
    void forwardedRowsTakeOnlyTheIdsTheyUse()
    {
        const QString stream = uniqueStream("fwdids");
        auto store = open(stream);
        const auto row = [](qint64 source) { return RedisRow{u"StoryEventCreated"_s, R"({"story_event_id":"s","world_id":"w1","kind":"k"})", {}, u"w1"_s, source}; };
        QCOMPARE(await(store->appendForwarded(u"src"_s, {row(1), row(2)})).value(), (QList<qint64>{1, 2}));
        QCOMPARE(await(store->appendForwarded(u"src"_s, {row(1), row(2), row(3)})).value(), QList<qint64>{3});
        QCOMPARE(await(store->appendForwarded(u"src"_s, {row(2), row(3)})).value(), QList<qint64>{});
        QCOMPARE(await(store->append({story(u"w1"_s, u"x"_s)})).value(), QList<qint64>{4});
        QCOMPARE(await(store->forwardCursor(u"src"_s)).value(), qint64(3));
    }

    // Each connection adds a world to the set once; a set someone emptied is
    // filled again after the store reconnects (as after a Redis restart).
    void worldsReachTheSet()
    {
        const QString stream = uniqueStream("worlds");
        auto store = open(stream);
        for (int i = 0; i < 3; ++i)
            QVERIFY(await(store->append({story(u"w1"_s, u"a%1"_s.arg(i)), story(u"w2"_s, u"b%1"_s.arg(i))})).ok());
        QList<qint64> fromThread;
        std::thread([&] {
            for (const QString &w : {u"w2"_s, u"w3"_s, u"w3"_s}) {
                QFuture<BatchPublishResult> f = store->append({story(w, u"t"_s)});
                f.waitForFinished();
                if (f.result().ok())
                    fromThread += f.result().value();
            }
        }).join();
        QCOMPARE(fromThread, (QList<qint64>{7, 8, 9}));
        QCOMPARE(await(store->distinctWorlds()).value(), (QStringList{u"w1"_s, u"w2"_s, u"w3"_s}));
        // A new connection (another store) does not rely on what this one added.
        QCOMPARE(cli({u"DEL"_s, stream + u":worlds"_s}), QByteArray("1"));
        auto other = open(stream);
        QVERIFY(await(other->append({story(u"w1"_s, u"again"_s)})).ok());
        QCOMPARE(await(other->distinctWorlds()).value(), QStringList{u"w1"_s});
        // Redis reset under both connections (the store's thread's and a
        // producer thread's), which stay up: the head each reads after its
        // next append is behind what the store appended, so the worlds go to
        // the set again with the append after.
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        QVERIFY(publishFromThread(bus, u"before"_s).ok());  // w1 on the producer's connection too
        QCOMPARE(cli({u"DEL"_s, stream, stream + u":seq"_s, stream + u":worlds"_s}), QByteArray("3"));
        QVERIFY(publishFromThread(bus, u"x"_s).ok());           // the script: Redis reads as new
        QVERIFY(await(store->append({story(u"w2"_s, u"y"_s)})).ok());
        QVERIFY(await(store->append({story(u"w2"_s, u"y2"_s)})).ok());
        QVERIFY(publishFromThread(bus, u"z"_s).ok());
        QCOMPARE(await(store->distinctWorlds()).value(), (QStringList{u"w1"_s, u"w2"_s}));
    }

    // A producer thread's single row goes as MULTI/EXEC with its id, on the
    // head its connection read after its last append and WATCHes since; when
    // another node wrote meanwhile, Redis runs none of it and the script gives
    // the next id. No id is skipped or reused: not after another node's entry,
    // nor one far ahead, nor when the stream was trimmed empty with its
    // counter set back, nor when the stream alone was deleted.
    void singleRowsGoAsTransactions()
    {
        const QString stream = uniqueStream("nextid");
        QProcess monitor;  // what Redis runs: transactions, or the script's
        const QStringList hostPort = m_address.split(u':');
        monitor.start(u"redis-cli"_s, {u"-h"_s, hostPort.value(0), u"-p"_s, hostPort.value(1), u"MONITOR"_s});
        QVERIFY(monitor.waitForStarted());
        QVERIFY(monitor.waitForReadyRead(5000));  // its "OK": watching
        auto store = open(stream);
        auto other = open(stream);
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        const auto publish = [&](const QString &what) { return idOf(publishFromThread(bus, what)); };
        QCOMPARE(publish(u"a"_s), 1);  // the connection's first: the script
        QCOMPARE(publish(u"b"_s), 2);
        QCOMPARE(publish(u"c"_s), 3);
        QCOMPARE(cli({u"GET"_s, stream + u":seq"_s}), QByteArray("3"));
        QCOMPARE(await(other->append({story(u"w1"_s, u"other"_s)})).value(), QList<qint64>{4});
        QCOMPARE(publish(u"d"_s), 5);
        QCOMPARE(cli({u"XADD"_s, stream, u"100-0"_s, u"type"_s, u"StoryEventCreated"_s, u"payload"_s, u"{}"_s}), QByteArray("100-0"));
        QCOMPARE(publish(u"e"_s), 101);
        QCOMPARE(publish(u"f"_s), 102);
        QCOMPARE(publish(u"g"_s), 103);
        QCOMPARE(await(store->trimUpTo(103)).value(), 9);
        QCOMPARE(cli({u"SET"_s, stream + u":seq"_s, u"50"_s}), QByteArray("OK"));  // as if a race had set it back
        QCOMPARE(await(store->headId()).value(), 103);  // the stream's last id, not the counter
        QCOMPARE(publish(u"h"_s), 104);
        QCOMPARE(cli({u"GET"_s, stream + u":seq"_s}), QByteArray("104"));
        QCOMPARE(cli({u"DEL"_s, stream}), QByteArray("1"));
        QCOMPARE(publish(u"i"_s), 105);
        QCOMPARE(publish(u"j"_s), 106);
        QCOMPARE(ids(await(store->fetchSince(0, 100)).value()), (QList<qint64>{105, 106}));
        QCOMPARE(cli({u"GET"_s, stream + u":seq"_s}), QByteArray("106"));
        const QSet<QByteArray> inTransaction = idsInTransactions(monitor, stream, "106-0");
        for (const char *id : {"2-0", "3-0", "102-0", "103-0", "106-0"})
            QVERIFY2(inTransaction.contains(id), id);
        for (const char *id : {"1-0", "4-0", "5-0", "101-0", "104-0", "105-0"})  // the script's
            QVERIFY2(!inTransaction.contains(id), id);
    }

    // The counter alone is deleted under a node that publishes from a
    // producer thread: its WATCH sees it go, and the ids go on from the
    // stream's last. (A reset of every key, with another node writing first:
    // tst_redisstore's resetStreamIsDetected.)
    void counterDeletedUnderSingleRows()
    {
        const QString stream = uniqueStream("counter");
        auto store = open(stream);
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        for (const QString &what : {u"a"_s, u"b"_s, u"c"_s})
            QVERIFY(publishFromThread(bus, what).ok());
        QCOMPARE(cli({u"DEL"_s, stream + u":seq"_s}), QByteArray("1"));
        QCOMPARE(idOf(publishFromThread(bus, u"d"_s)), 4);
        QCOMPARE(idOf(publishFromThread(bus, u"e"_s)), 5);
        QCOMPARE(ids(await(store->fetchSince(0, 100)).value()), (QList<qint64>{1, 2, 3, 4, 5}));
        QCOMPARE(cli({u"GET"_s, stream + u":seq"_s}), QByteArray("5"));
    }

    // The producer thread's connection is closed by Redis (a restart, a
    // CLIENT KILL) after it read the head, and another node appends before
    // its next publish: the new connection WATCHes nothing, so that publish
    // goes through the script, and takes the next id.
    void aTransactionNeedsItsOwnConnection()
    {
        const QString user = u"direct"_s + QUuid::createUuid().toString(QUuid::Id128).left(8);
        QCOMPARE(cli({u"ACL"_s, u"SETUSER"_s, user, u"on"_s, u">pw"_s, u"~*"_s, u"&*"_s, u"+@all"_s}), QByteArray("OK"));
        const auto dropUser = qScopeGuard([&] { cli({u"ACL"_s, u"DELUSER"_s, user}); });
        const QString stream = uniqueStream("killed");
        auto store = openRedisStore(user + u":pw@"_s + m_address, stream);
        auto other = open(stream);
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        QCOMPARE(idOf(publishFromThread(bus, u"a"_s)), 1);
        QCOMPARE(idOf(publishFromThread(bus, u"b"_s)), 2);
        QSignalSpy changes(store.get(), &RedisEventStore::connectionChanged);
        QLoggingCategory::setFilterRules(u"eventdesk.redis.warning=false"_s);  // "lost Redis"
        const auto logAgain = qScopeGuard([] { QLoggingCategory::setFilterRules({}); });
        QVERIFY(cli({u"CLIENT"_s, u"KILL"_s, u"USER"_s, user}).toInt() >= 3);  // the store's two and the thread's
        QCOMPARE(await(other->append({story(u"w1"_s, u"other"_s)})).value(), QList<qint64>{3});
        QTRY_VERIFY(!changes.isEmpty() && changes.last().at(0).toBool());  // the store's connections are back
        const PublishResult next = publishFromThread(bus, u"c"_s);
        QVERIFY2(next.ok(), why(next));
        QCOMPARE(next.value(), 4);
        QCOMPARE(idOf(publishFromThread(bus, u"d"_s)), 5);
        QCOMPARE(ids(await(store->fetchSince(0, 100)).value()), (QList<qint64>{1, 2, 3, 4, 5}));
    }

    // Publishes still queued or on the wire when the store closes are all
    // answered (an id, or "closed"), none left waiting.
    void publishesQueuedAtCloseAreAnswered()
    {
        auto store = open(uniqueStream("closing"));
        BusNotifier notifier(30000);
        QLoggingCategory::setFilterRules(u"eventdesk.model.warning=false"_s);  // each "closed" is logged
        const auto logAgain = qScopeGuard([] { QLoggingCategory::setFilterRules({}); });
        QList<QFuture<PublishResult>> pending;
        {
            StoreEventBus bus(*store, notifier);
            for (int i = 0; i < 3000; ++i)
                pending.append(bus.publish(story(u"w1"_s, u"p%1"_s.arg(i))));
        }
        store.reset();
        int ok = 0, closed = 0;
        for (const QFuture<PublishResult> &f : std::as_const(pending)) {
            QVERIFY(f.isFinished());
            if (f.result().ok())
                ++ok;
            else if (f.result().error().code == ErrorCode::Unavailable)
                ++closed;
        }
        QCOMPARE(ok + closed, int(pending.size()));
        qInfo() << ok << "published," << closed << "answered as closed";
    }

    // Ids come from one counter: ids between what a store knows and its
    // append's first are another node's. Replies that come back out of order
    // may report a gap that is the store's own (one look too many), never miss one.
    void ownAppendsShowOthersEntries()
    {
        RedisHead head;
        QVERIFY(!head.appendedWithin(qint64(1000) * 1000 * 1000));
        QCOMPARE(head.appended({1, 2}), 0);
        QVERIFY(head.appendedWithin(qint64(1000) * 1000 * 1000));
        QCOMPARE(head.appended({3}), 0);
        QCOMPARE(head.appended({6, 7}), 5);  // 4 and 5: another node's
        QCOMPARE(head.known.load(), 7);
        QCOMPARE(head.appended({10}), 9);    // 8 and 9: still on their way back to us
        QCOMPARE(head.appended({8, 9}), 0);  // ...and they were ours: no second look
        QCOMPARE(head.known.load(), 10);
        head.raise(15);                      // the watch read up to 15
        QCOMPARE(head.known.load(), 15);
        head.raise(12);
        QCOMPARE(head.known.load(), 15);
        QCOMPARE(head.appended({}), 0);
        head.known.store(20);                // another store's reply
        QCOMPARE(head.appended({21}), 0);
    }

    // Groups from the store's own thread go as MULTI/EXEC with their ids,
    // built on the head the connection read and WATCHes since its last
    // append. Another node appending between two groups touches what is
    // WATCHed: Redis runs none of the next transaction, and the script gives
    // its ids. Ids stay dense and in order either way.
    void groupsGoAsTransactions()
    {
        const QString stream = uniqueStream("multi");
        QProcess monitor;
        const QStringList hostPort = m_address.split(u':');
        monitor.start(u"redis-cli"_s, {u"-h"_s, hostPort.value(0), u"-p"_s, hostPort.value(1), u"MONITOR"_s});
        QVERIFY(monitor.waitForStarted());
        QVERIFY(monitor.waitForReadyRead(5000));
        auto store = open(stream);
        auto other = open(stream);
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        QCOMPARE(idOf(await(bus.publish(story(u"w1"_s, u"a"_s)))), 1);  // the first: the script
        QList<QFuture<PublishResult>> pending;
        for (int i = 0; i < 50; ++i)
            pending.append(bus.publish(story(u"w2"_s, u"b%1"_s.arg(i))));  // a world new to the set
        QList<qint64> got;
        for (const QFuture<PublishResult> &f : std::as_const(pending))
            got.append(idOf(await(f)));
        QCOMPARE(got.first(), 2);
        QCOMPARE(got.last(), 51);
        for (int round = 0; round < 5; ++round) {
            QCOMPARE(await(other->append({story(u"w1"_s, u"other"_s)})).value(), QList<qint64>{52 + 2 * round});
            QCOMPARE(idOf(await(bus.publish(story(u"w1"_s, u"c%1"_s.arg(round))))), 53 + 2 * round);
        }
        QCOMPARE(await(store->append({story(u"w3"_s, u"d"_s), story(u"w3"_s, u"e"_s)})).value(), (QList<qint64>{62, 63}));
        QCOMPARE(cli({u"GET"_s, stream + u":seq"_s}), QByteArray("63"));
        QList<qint64> stored = ids(await(store->fetchSince(0, 100)).value());
        QCOMPARE(stored.size(), 63);
        QCOMPARE(stored.last(), 63);
        const QByteArray worlds = cli({u"SMEMBERS"_s, stream + u":worlds"_s});
        for (const char *w : {"w1", "w2", "w3"})
            QVERIFY2(worlds.contains(w), worlds.constData());
        // Which ids went inside MULTI/EXEC: the store's after its first.
        const QSet<QByteArray> inTransaction = idsInTransactions(monitor, stream, "63-0");
        for (const char *id : {"2-0", "27-0", "51-0", "62-0", "63-0"})
            QVERIFY2(inTransaction.contains(id), id);
        QVERIFY(!inTransaction.contains("1-0"));
    }

    // A user whose ACL refuses MULTI: the store asks once per connection, and
    // its groups, and a producer thread's publishes, go through the script;
    // none runs outside a transaction, and every publish is answered with its
    // id, densely. One whose ACL refuses WATCH: no head is read, and the same.
    void refusedTransactionsGoThroughTheScript_data()
    {
        QTest::addColumn<QString>("refused");
        QTest::newRow("MULTI") << u"-multi"_s;
        QTest::newRow("WATCH") << u"-watch"_s;
    }
    void refusedTransactionsGoThroughTheScript()
    {
        QFETCH(QString, refused);
        const QString user = u"norule"_s + QUuid::createUuid().toString(QUuid::Id128).left(8);
        QCOMPARE(cli({u"ACL"_s, u"SETUSER"_s, user, u"on"_s, u">pw"_s, u"~*"_s, u"&*"_s, u"+@all"_s, refused}), QByteArray("OK"));
        const auto dropUser = qScopeGuard([&] { cli({u"ACL"_s, u"DELUSER"_s, user}); });
        QLoggingCategory::setFilterRules(u"eventdesk.redis.info=false"_s);  // "Redis refuses MULTI here"
        const auto logAgain = qScopeGuard([] { QLoggingCategory::setFilterRules({}); });
        const QString stream = uniqueStream("acl");
        auto store = openRedisStore(user + u":pw@"_s + m_address, stream);
        BusNotifier notifier(30000);
        StoreEventBus bus(*store, notifier);
        QList<qint64> got;
        for (int round = 0; round < 3; ++round) {
            QList<QFuture<PublishResult>> pending;
            for (int i = 0; i < 20; ++i)
                pending.append(bus.publish(story(u"w1"_s, u"r%1-%2"_s.arg(round).arg(i))));
            for (const QFuture<PublishResult> &f : std::as_const(pending)) {
                const PublishResult r = await(f);
                QVERIFY2(r.ok(), why(r));
                got.append(r.value());
            }
        }
        for (int i = 0; i < 3; ++i) {
            const PublishResult r = publishFromThread(bus, u"t%1"_s.arg(i));
            QVERIFY2(r.ok(), why(r));
            got.append(r.value());
        }
        QList<qint64> dense;
        for (qint64 id = 1; id <= 63; ++id)
            dense.append(id);
        QCOMPARE(got, dense);
        QCOMPARE(ids(await(store->fetchSince(0, 100)).value()), dense);
    }

    // What a transaction's EXEC and the head read after an append say, as
    // Redis answers them, and as it must not: aborted, refused, cut short,
    // another id, garbled numbers, keys that hold something else.
    void transactionRepliesAreChecked()
    {
        const auto text = [](RedisReply::Type type, const QByteArray &t) {
            RedisReply r;
            r.type = type;
            r.text = t;
            return r;
        };
        const auto array = [](QList<RedisReply> elements) {
            RedisReply r;
            r.type = RedisReply::Type::Array;
            r.elements = std::move(elements);
            return r;
        };
        const RedisReply ok = text(RedisReply::Type::Status, "OK");
        QVERIFY(!transactionIds(RedisReply{}, 7, 2));  // nil: nothing ran
        const auto ids = transactionIds(array({text(RedisReply::Type::String, "8-0"), text(RedisReply::Type::String, "9-0"), ok}), 7, 2);
        QVERIFY(ids && *ids);
        QCOMPARE(ids->value(), (QList<qint64>{8, 9}));
        const auto refused = transactionIds(text(RedisReply::Type::Error, "EXECABORT Transaction discarded"), 7, 2);
        QVERIFY(refused && !*refused);
        QVERIFY(refused->error().message.contains(u"EXECABORT"_s));
        const auto lost = transactionIds(Result<RedisReply>(Error{ErrorCode::Unavailable, {}, u"connection lost"_s}), 7, 1);
        QVERIFY(lost && !*lost);
        for (const RedisReply &bad : {array({text(RedisReply::Type::String, "8-0")}),                      // cut short
                                      array({text(RedisReply::Type::String, "10-0"), ok}),                 // another id
                                      array({text(RedisReply::Type::Error, "WRONGTYPE Operation"), ok}),   // refused inside
                                      text(RedisReply::Type::String, "8-0")}) {
            const auto r = transactionIds(bad, 7, 1);
            QVERIFY(r && !*r);
        }
        // A single row's XADD refused for its id (the stream is past the
        // counter it was read from): nothing was added, the script does it.
        const RedisReply smaller = text(RedisReply::Type::Error, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        QVERIFY(!transactionIds(array({smaller, ok}), 7, 1));
        // A group's: the XADDs after it may have been added, so it is an error, never retried.
        const auto half = transactionIds(array({smaller, text(RedisReply::Type::String, "9-0"), ok}), 7, 2);
        QVERIFY(half && !*half);
        QCOMPARE(counterFrom(RedisReply{}), std::optional<qint64>(0));
        QCOMPARE(counterFrom(text(RedisReply::Type::String, "41")), std::optional<qint64>(41));
        for (const RedisReply &bad : {text(RedisReply::Type::Error, "WRONGTYPE Operation against a key holding the wrong kind of value"),
                                      text(RedisReply::Type::String, "4x1"), text(RedisReply::Type::String, "-1"),
                                      text(RedisReply::Type::String, QByteArray(5000, '9')), array({})})
            QCOMPARE(counterFrom(bad), std::nullopt);
        QCOMPARE(counterFrom(Result<RedisReply>(Error{ErrorCode::Unavailable, {}, u"lost"_s})), std::nullopt);
        const auto info = [&](const QByteArray &lastGenerated) {
            return array({text(RedisReply::Type::String, "length"), RedisReply{RedisReply::Type::Integer, 3, {}, {}},
                          text(RedisReply::Type::String, "last-generated-id"), text(RedisReply::Type::String, lastGenerated)});
        };
        const RedisReply none = text(RedisReply::Type::Error, "ERR no such key");
        QCOMPARE(headFrom(RedisReply{}, none), std::optional<qint64>(0));
        QCOMPARE(headFrom(text(RedisReply::Type::String, "5"), none), std::optional<qint64>(5));  // the stream alone deleted
        QCOMPARE(headFrom(text(RedisReply::Type::String, "5"), info("7-0")), std::optional<qint64>(7));
        QCOMPARE(headFrom(text(RedisReply::Type::String, "9"), info("7-0")), std::optional<qint64>(9));
        QCOMPARE(headFrom(RedisReply{}, info("1733000000000-5")), std::optional<qint64>(1733000000000));  // another tool's id
        QCOMPARE(headFrom(text(RedisReply::Type::Error, "WRONGTYPE"), info("7-0")), std::nullopt);
        QCOMPARE(headFrom(text(RedisReply::Type::String, "5"), text(RedisReply::Type::Error, "WRONGTYPE")), std::nullopt);
        QCOMPARE(headFrom(text(RedisReply::Type::String, "abc"), info("7-0")), std::nullopt);
        QCOMPARE(headFrom(text(RedisReply::Type::String, "-4"), info("7-0")), std::nullopt);
        QCOMPARE(headFrom(text(RedisReply::Type::String, "5"), info("x-0")), std::nullopt);
        QCOMPARE(headFrom(text(RedisReply::Type::String, "5"), info(QByteArray(400, '9') + "-0")), std::nullopt);
        QCOMPARE(headFrom(text(RedisReply::Type::String, "5"), array({text(RedisReply::Type::String, "length")})), std::nullopt);
        QCOMPARE(headFrom(Result<RedisReply>(Error{ErrorCode::Unavailable, {}, u"lost"_s}), none), std::nullopt);
    }

    // Commands in Redis's protocol, as a producer thread's connection sends
    // them: binary-safe (CR, LF and NUL inside an argument, an empty one, a
    // megabyte), and what Redis reads back is what was sent.
    void commandsGoOnTheWireAsTheyAre()
    {
        QByteArray wire;
        const QByteArray hostile("a\r\n*1\r\n$4\r\nPING\0z", 17);
        appendCommandResp(wire, {"SET", "k", hostile});
        appendCommandResp(wire, {"GET", ""});
        QCOMPARE(wire, QByteArray("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$17\r\n") + hostile + QByteArray("\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n"));
        RedisDirect direct(RedisEndpoint::parse(u"redis://%1/0"_s.arg(m_address)).value());
        const QByteArray key = uniqueStream("wire").toUtf8();
        const QByteArray big(1024 * 1024, 'x');
        const RedisDirect::Answer answer = direct.pipeline(
            {{"SET", key, hostile}, {"GET", key}, {"SET", key + ":big", big}, {"STRLEN", key + ":big"}, {"DEL", key, key + ":big"}});
        QCOMPARE(answer.outcome, RedisDirect::Outcome::Answered);
        QCOMPARE(answer.replies.size(), 5);
        QCOMPARE(answer.replies.at(1).text, hostile);
        QCOMPARE(answer.replies.at(3).integer, big.size());
        QCOMPARE(answer.replies.at(4).integer, 2);
        QVERIFY(direct.transactions());
        // On a connection that is not the one asked for: nothing is sent.
        const RedisDirect::Answer elsewhere = direct.pipeline({{"SET", key, "no"}}, answer.connection + 1);
        QCOMPARE(elsewhere.outcome, RedisDirect::Outcome::NotSent);
        QCOMPARE(cli({u"EXISTS"_s, QString::fromUtf8(key)}), QByteArray("0"));
    }

    // A node that keeps appending rests its watch; what another node appends
    // meanwhile still reaches this node's subscriber, every event, in id
    // order. The busy node appends through the store itself (not a bus), so
    // its subscriber hears only what the store detects of other nodes: the
    // replies of its own appends while the watch rests, the watch after.
    void appendingNodeSeesOthersWhileItsWatchRests()
    {
        const QString stream = uniqueStream("rest");
        auto busy = open(stream);
        auto other = open(stream);
        BusNotifier notifier(30000);
        connect(busy.get(), &RedisEventStore::externalRowsDetected, &notifier, &BusNotifier::externalRowsDetected);
        Subscriber sub(*busy, notifier, Subscriber::Options{});
        QList<qint64> seen;
        QStringList fromOther;
        connect(&sub, &Subscriber::eventsReceived, this, [&](const QList<StoredEvent> &rows) {
            for (const StoredEvent &r : rows) {
                seen.append(r.id);
                if (storyId(r).startsWith(u"other"_s))
                    fromOther.append(storyId(r));
            }
        });
        sub.start();
        QTRY_VERIFY(sub.isCaughtUp());
        // One at a time on a producer thread: well within the watch's rest.
        std::atomic<bool> stop = false;
        std::atomic<int> busyAppends = 0;
        std::thread producer([&] {
            while (!stop.load()) {
                QFuture<BatchPublishResult> f = busy->append({story(u"w1"_s, u"busy"_s)});
                f.waitForFinished();
                busyAppends += f.result().ok();
            }
        });
        constexpr int Others = 20;
        for (int i = 0; i < Others; ++i) {
            QVERIFY(await(other->append({story(u"w2"_s, u"other%1"_s.arg(i))})).ok());
            // A few of the busy node's appends after each: the two interleave.
            const int before = busyAppends.load();
            QVERIFY(QTest::qWaitFor([&] { return busyAppends.load() >= before + 3; }, 5000));
        }
        QTRY_COMPARE(fromOther.size(), Others);
        stop = true;
        producer.join();
        for (int i = 0; i < Others; ++i)
            QCOMPARE(fromOther[i], u"other%1"_s.arg(i));
        for (qsizetype i = 1; i < seen.size(); ++i)
            QCOMPARE(seen[i], seen[i - 1] + 1);
    }
};

QTEST_GUILESS_MAIN(TestRedisAppend)
#include "tst_redisappend.moc"
