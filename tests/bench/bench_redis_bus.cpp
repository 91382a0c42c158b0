// Benchmark of the Redis Streams bus against a real redis-server on 127.0.0.1
// (EVENTDESK_TEST_REDIS, or one it starts itself). Prints figures; never
// passes or fails on time.
//  - raw baseline: pipelined XADD through hiredis's synchronous API, in this run;
//    like EventDesk, it encodes each event to its JSON inside the timed loop
//    (both sides start from the same AppEvents, built before the clock starts);
//  - EventDesk publishes with many in flight (grouped into MULTI/EXEC
//    transactions with their integer ids), as a ratio to that baseline; one at a time from
//    producer threads (a MULTI/EXEC transaction with its id, against raw XADD
//    one at a time in the same blocks); batches;
//  - cross-node latency: published through one store, received by a
//    subscriber of another store (another "machine") on the same stream.
// EVENTDESK_BENCH_QUICK=1 runs a small version (used by ctest to keep it working).
#include "../RedisTestServer.h"
#include "BenchSupport.h"
#include "BusNotifier.h"
#include "EventCodec.h"
#include "RedisEventStore.h"
#include "RedisStreamFormat.h"
#include "Subscriber.h"
#include "Timestamp.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLoggingCategory>
#include <QSet>
#include <QTimer>
#include <QUuid>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <pthread.h>
#include <time.h>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using namespace eventdesk::bench;

namespace {

AppEvent sample(int i)
{
    return events::ChallengeResolved{u"c-%1"_s.arg(i), u"Pick the lock"_s, u"w%1"_s.arg(i % 4), u"pc%1"_s.arg(i % 7),
                                     i % 3 != 0, 1 + i % 20, 3 + i % 20, u"s-1"_s};
}

QString freshStream(const char *what)
{
    return u"bench:%1:%2"_s.arg(QLatin1StringView(what), QUuid::createUuid().toString(QUuid::Id128).left(10));
}

// The raw baseline: XADD with automatic ids, pipelined `depth` deep. With
// `encode`, each event's JSON is encoded in the loop (as EventDesk must);
// without, all are encoded before the clock starts (for reference).
double rawPipelinedXadd(const QString &host, quint16 port, const QList<AppEvent> &events, int depth, bool encode)
{
    redisContext *c = redisConnect(host.toUtf8().constData(), port);
    if (!c || c->err) {
        std::fprintf(stderr, "raw: cannot connect\n");
        return 0;
    }
    const QByteArray stream = freshStream("raw").toUtf8();
    const int n = int(events.size());
    QList<QByteArray> payloads;
    for (int i = 0; !encode && i < n; ++i)
        payloads.append(codec::encode(events[i]));
    const QByteArray type = "ChallengeResolved";
    QElapsedTimer t;
    t.start();
    for (int done = 0; done < n;) {
        const int chunk = std::min(depth, n - done);
        for (int i = 0; i < chunk; ++i) {
            const QByteArray created = timestamp::nowUtf8();
            const QByteArray p = encode ? codec::encode(events[done + i]) : payloads[done + i];
            const char *argv[] = {"XADD", stream.constData(), "*", "type", type.constData(), "payload", p.constData(), "created_at",
                                  created.constData()};
            const size_t lens[] = {4, size_t(stream.size()), 1, 4, size_t(type.size()), 7, size_t(p.size()), 10, size_t(created.size())};
            redisAppendCommandArgv(c, 9, argv, lens);
        }
        for (int i = 0; i < chunk; ++i) {
            void *reply = nullptr;
            if (redisGetReply(c, &reply) != REDIS_OK) {
                std::fprintf(stderr, "raw: %s\n", c->errstr);
                redisFree(c);
                return 0;
            }
            freeReplyObject(reply);
        }
        done += chunk;
    }
    const double rate = n / (double(t.nsecsElapsed()) / 1e9);
    redisReply *del = static_cast<redisReply *>(redisCommand(c, "DEL %b", stream.constData(), size_t(stream.size())));
    freeReplyObject(del);
    redisFree(c);
    return rate;
}

// A raw hiredis connection kept open with a stream of its own (and the
// stream's keys), all deleted at the end.
class RawConnection
{
public:
    RawConnection(const QString &host, quint16 port, const char *what)
        : m_c(redisConnect(host.toUtf8().constData(), port))
        , m_stream(freshStream(what).toUtf8())
    {
    }
    ~RawConnection()
    {
        if (ok())
            for (const QByteArray &key : QByteArrayList{m_stream, m_stream + ":seq", m_stream + ":worlds"})
                freeReplyObject(redisCommand(m_c, "DEL %b", key.constData(), size_t(key.size())));
        if (m_c)
            redisFree(m_c);
    }
    bool ok() const { return m_c && !m_c->err; }
    redisContext *context() const { return m_c; }
    const QByteArray &stream() const { return m_stream; }
    // One command, waited for; false (and why, on stderr) when refused or lost.
    bool run(const char *what, int argc, const char **argv, const size_t *lens)
    {
        auto *r = static_cast<redisReply *>(redisCommandArgv(m_c, argc, argv, lens));
        const bool fine = r && r->type != REDIS_REPLY_ERROR;
        if (!fine)
            std::fprintf(stderr, "%s: %s\n", what, r ? r->str : m_c->errstr);
        freeReplyObject(r);
        return fine;
    }

private:
    redisContext *m_c;
    QByteArray m_stream;
};

// The raw one-at-a-time baseline as a connection kept open, so that it can
// run in blocks interleaved with EventDesk's: both then see the same
// machine (the fsync of the same disk, the same neighbours), block by block.
class RawSingle
{
public:
    RawSingle(const QString &host, quint16 port) : m_conn(host, port, "raw1") {}
    // An XADD per event, each encoded and then waited for; the time they
    // took, in ns (0: failed).
    qint64 run(const QList<AppEvent> &events)
    {
        if (!m_conn.ok())
            return 0;
        const QByteArray &stream = m_conn.stream();
        const QByteArray type = "ChallengeResolved";
        QElapsedTimer t;
        t.start();
        for (const AppEvent &e : events) {
            const QByteArray p = codec::encode(e);
            const QByteArray created = timestamp::nowUtf8();
            const char *argv[] = {"XADD", stream.constData(), "*", "type", type.constData(), "payload", p.constData(),
                                  "created_at", created.constData()};
            const size_t lens[] = {4, size_t(stream.size()), 1, 4, size_t(type.size()), 7, size_t(p.size()), 10, size_t(created.size())};
            if (!m_conn.run("raw XADD", 9, argv, lens))
                return 0;
        }
        return t.nsecsElapsed();
    }

private:
    RawConnection m_conn;
};

// Where a publish's time goes, server side: EventDesk's append script (INCRBY
// of the counter, XADD, a world not seen before into the set), run with raw
// hiredis one at a time, as EVALSHA; kept connected, in blocks like RawSingle.
// A single row goes through it when another node wrote since this store's
// last append (otherwise it is a transaction with its id).
class RawScript
{
public:
    RawScript(const QString &host, quint16 port)
        : m_conn(host, port, "script")
    {
        if (m_conn.ok())
            freeReplyObject(redisCommand(m_conn.context(), "SCRIPT LOAD %s", redisstream::appendScript().body));
    }
    // `count` appends, each waiting for its reply; the time they took, in ns (0: failed).
    qint64 run(const QList<AppEvent> &events)
    {
        if (!m_conn.ok())
            return 0;
        const QByteArray &stream = m_conn.stream();
        const QByteArray seq = stream + ":seq", worlds = stream + ":worlds", forward = stream + ":forward";
        const redisstream::Script &script = redisstream::appendScript();
        const QByteArray type = "ChallengeResolved";
        QElapsedTimer t;
        t.start();
        for (const AppEvent &e : events) {
            const QByteArray payload = codec::encode(e), world = e.worldId().toUtf8(), created = timestamp::nowUtf8();
            const bool newWorld = !m_worldsAdded.contains(world);  // as EventDesk: once per connection
            m_worldsAdded.insert(world);
            std::vector<const char *> argv{"EVALSHA", script.sha.constData(), "4", stream.constData(), seq.constData(),
                                           worlds.constData(), forward.constData(), "0", "", newWorld ? "1" : "0"};
            if (newWorld)
                argv.push_back(world.constData());
            for (const char *a : {type.constData(), payload.constData(), created.constData(), "0"})
                argv.push_back(a);
            std::vector<size_t> lens;
            for (const char *a : argv)
                lens.push_back(std::strlen(a));
            if (!m_conn.run("raw script", int(argv.size()), argv.data(), lens.data()))
                return 0;
        }
        return t.nsecsElapsed();
    }

private:
    RawConnection m_conn;
    QSet<QByteArray> m_worldsAdded;
};

// Runs fn on a thread of its own; the time it took, in ns. cpuNs, if given,
// gains the CPU time that thread used meanwhile.
qint64 onProducerThread(const std::function<void()> &fn, qint64 *cpuNs = nullptr)
{
    qint64 ns = 0;
    std::thread([&] {
        pthread_setname_np(pthread_self(), "producer");
        const auto cpu = [] {
            timespec t{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
            return qint64(t.tv_sec) * 1000000000 + t.tv_nsec;
        };
        const qint64 cpuBefore = cpu();
        QElapsedTimer t;
        t.start();
        fn();
        ns = t.nsecsElapsed();
        if (cpuNs)
            *cpuNs += cpu() - cpuBefore;
    }).join();
    return ns;
}

std::unique_ptr<RedisEventStore> openStore(const QString &address, const QString &stream)
{
    auto store = std::make_unique<RedisEventStore>(RedisEndpoint::parse(u"redis://%1/0?stream=%2"_s.arg(address, stream)).value());
    if (Result<bool> r = store->openAndWait(); !r)
        qFatal("%s", qPrintable(r.error().message));
    return store;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(u"eventdesk.*.debug=false\neventdesk.*.info=false"_s);
    const bool quick = qEnvironmentVariableIntValue("EVENTDESK_BENCH_QUICK") == 1;
    qint64 failedPublishes = 0;  // any: the figures are not of the work asked for
    if (test::RedisTestServer::executable().isEmpty()) {
        // Nothing measured is a failure, not a pass (installer/install-deps.sh installs it).
        std::fprintf(stderr, "bench_redis_bus: redis-server is not installed: nothing measured\n");
        return 1;
    }
    QString address = qEnvironmentVariable("EVENTDESK_TEST_REDIS");
    std::unique_ptr<test::RedisTestServer> own;
    QString fsync;
    if (address.isEmpty()) {
        own = std::make_unique<test::RedisTestServer>();
        // Both sides write through the same server, which fsyncs every write
        // (an id handed out is on disk, as the tests run it), or as
        // EVENTDESK_BENCH_REDIS_FSYNC says (everysec: the bus's own costs show).
        fsync = qEnvironmentVariable("EVENTDESK_BENCH_REDIS_FSYNC", u"always"_s);
        if (!own->start({u"--appendfsync"_s, fsync}))
            qFatal("cannot start redis-server");
        address = own->address();
    }
    const QString host = address.section(u':', 0, 0);
    const quint16 port = quint16(address.section(u':', 1).toUInt());
    const int n = quick ? 2000 : 50000;
    const int rounds = quick ? 1 : 3;
    std::printf("Redis Streams bus on %s%s, %d events per measurement, median of %d\n", qPrintable(address),
                own ? qPrintable(u" (appendfsync "_s + fsync + u')') : "", n, rounds);

    // Both sides start from the same events, built before any clock starts.
    QList<AppEvent> evs;
    for (int i = 0; i < n; ++i)
        evs.append(sample(i));
    QList<double> raw, rawPreEncoded, rawSingle, rawScript, inFlight, single, singleMain, batch;
    QList<double> rawSingleCpuUs, singleCpuUs;  // the publishing thread's CPU time per one-at-a-time publish
    for (int round = 0; round < rounds; ++round) {
        raw.append(rawPipelinedXadd(host, port, evs, 1000, true));
        rawPreEncoded.append(rawPipelinedXadd(host, port, evs, 1000, false));

        // Many publishes in flight through one store: its one command
        // connection sends them in groups, each a transaction with its ids.
        {
            auto store = openStore(address, freshStream("inflight"));
            BusNotifier notifier(30000);
            StoreEventBus bus(*store, notifier);
            QElapsedTimer t;
            t.start();
            QList<QFuture<PublishResult>> pending;
            pending.reserve(n);
            for (int i = 0; i < n; ++i) {
                pending.append(bus.publish(evs[i]));
                if (pending.size() - 1000 >= 0 && i % 1000 == 999)
                    blockingWait(pending[i - 999]);  // keep about 1,000 in flight, like the raw pipeline
            }
            int failed = 0;
            for (auto &f : pending)
                failed += !blockingWait(f).ok();
            inFlight.append(n / (double(t.nsecsElapsed()) / 1e9));
            if (failed)
                std::printf("  %d publishes failed\n", failed);
            failedPublishes += failed;
        }
        // One at a time: each waits for its reply (round-trip bound), from a
        // producer thread (an engine's producer), in blocks that take turns
        // with the raw clients' (XADD, and EventDesk's script), which
        // run on producer threads too; then from the main thread, which hands
        // each publish to the worker.
        {
            auto store = openStore(address, freshStream("single"));
            BusNotifier notifier(30000);
            StoreEventBus bus(*store, notifier);
            const int m = n / 10;
            // In blocks, taking turns with the raw clients, each block on a
            // producer thread of its own, theirs as EventDesk's: a blocking
            // round trip from the main thread measured ~35 us shorter here
            // than from a fresh thread, which is not EventDesk's doing.
            constexpr int Blocks = 10;
            const int perBlock = m / Blocks, total = perBlock * Blocks;
            RawSingle rawClient(host, port);
            RawScript scriptClient(host, port);
            // A block that failed (0 ns) leaves its side with no figure, not a faster one.
            const auto add = [](qint64 &sum, qint64 blockNs) { sum = sum < 0 || blockNs <= 0 ? -1 : sum + blockNs; };
            const auto rate = [total](qint64 sum) { return sum > 0 ? total / (double(sum) / 1e9) : 0.0; };
            qint64 rawNs = 0, scriptNs = 0, ns = 0, rawCpuNs = 0, cpuNs = 0;
            for (int b = 0; b < Blocks; ++b) {
                const QList<AppEvent> block = evs.mid(b * perBlock, perBlock);
                onProducerThread([&] { add(rawNs, rawClient.run(block)); }, &rawCpuNs);
                onProducerThread([&] { add(scriptNs, scriptClient.run(block)); });
                ns += onProducerThread([&] {
                    for (const AppEvent &e : block)
                        failedPublishes += !blockingWait(bus.publish(e)).ok();
                }, &cpuNs);
            }
            rawSingle.append(rate(rawNs));
            rawSingleCpuUs.append(rawCpuNs / 1000.0 / total);
            singleCpuUs.append(cpuNs / 1000.0 / total);
            rawScript.append(rate(scriptNs));
            single.append(rate(ns));
            QElapsedTimer t;
            t.start();
            for (int i = 0; i < m; ++i)
                failedPublishes += !blockingWait(bus.publish(evs[i])).ok();
            singleMain.append(m / (double(t.nsecsElapsed()) / 1e9));
        }
        // Batches of 1,000, one transaction each.
        {
            auto store = openStore(address, freshStream("batch"));
            const QList<AppEvent> thousand = evs.mid(0, 1000);
            QElapsedTimer t;
            t.start();
            for (int i = 0; i < n / 1000; ++i)
                failedPublishes += !blockingWait(store->append(thousand)).ok();
            batch.append(n / (double(t.nsecsElapsed()) / 1e9));
        }
    }
    const double rawRate = percentile(raw, 0.5);
    std::printf("raw pipelined XADD (hiredis, 1,000 deep, each event encoded in the loop): %.0f events/s\n", rawRate);
    std::printf("  the same with every payload encoded before the clock starts: %.0f events/s (EventDesk in flight %.2fx of it)\n",
                percentile(rawPreEncoded, 0.5), percentile(inFlight, 0.5) / percentile(rawPreEncoded, 0.5));
    std::printf("EventDesk publish, ~1,000 in flight:      %.0f events/s  -> %.2fx raw\n", percentile(inFlight, 0.5),
                percentile(inFlight, 0.5) / rawRate);
    std::printf("raw XADD one at a time:                   %.0f events/s\n", percentile(rawSingle, 0.5));
    std::printf("EventDesk publish, one at a time:         %.0f events/s  -> %.2fx raw one at a time\n", percentile(single, 0.5),
                percentile(single, 0.5) / percentile(rawSingle, 0.5));
    std::printf("  the same from the main thread:          %.0f events/s  -> %.2fx (handed to the store's thread and back)\n",
                percentile(singleMain, 0.5), percentile(singleMain, 0.5) / percentile(rawSingle, 0.5));
    std::printf("EventDesk batches of 1,000:               %.0f events/s  -> %.2fx raw\n", percentile(batch, 0.5),
                percentile(batch, 0.5) / rawRate);
    const auto us = [](double perSecond) { return perSecond > 0 ? 1e6 / perSecond : 0.0; };
    std::printf("one publish, where the time goes: raw XADD round trip %.0f us; EventDesk publish %.0f us (%+.0f us: "
                "MULTI, XADD with its id, the counter's SET, EXEC, then WATCH and GET of the counter, in one round trip; "
                "reply parsing, the future); EventDesk's append script by raw hiredis %.0f us (%+.0f us in Redis: a single "
                "row's cost after another node wrote); from the main thread %.0f us (two thread hops); the publishing "
                "thread's CPU per publish: raw %.1f us, EventDesk %.1f us\n",
                us(percentile(rawSingle, 0.5)), us(percentile(single, 0.5)),
                us(percentile(single, 0.5)) - us(percentile(rawSingle, 0.5)), us(percentile(rawScript, 0.5)),
                us(percentile(rawScript, 0.5)) - us(percentile(rawSingle, 0.5)), us(percentile(singleMain, 0.5)),
                percentile(rawSingleCpuUs, 0.5), percentile(singleCpuUs, 0.5));
    printRatio("redis_publish_in_flight", percentile(inFlight, 0.5), rawRate);
    printRatio("redis_publish_single", percentile(single, 0.5), percentile(rawSingle, 0.5));
    printRatio("redis_publish_batch", percentile(batch, 0.5), rawRate);

    // Cross-node: published through A, received by a subscriber of B.
    {
        const QString stream = freshStream("nodes");
        auto a = openStore(address, stream);
        auto b = openStore(address, stream);
        BusNotifier notifierA(30000), notifierB(30000);
        QObject::connect(b.get(), &RedisEventStore::externalRowsDetected, &notifierB, &BusNotifier::externalRowsDetected);
        StoreEventBus busA(*a, notifierA);
        Subscriber sub(*b, notifierB, Subscriber::Options{});
        sub.start();
        while (!sub.isCaughtUp())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        const int m = quick ? 500 : 5000;
        const int ratePerSecond = 1000;
        QHash<QString, qint64> sentAt;
        QList<double> latencies;
        // The baseline on the same entries: a raw hiredis client on a thread
        // of its own, blocked in XREAD on the stream, as a raw subscriber on
        // another machine would be.
        std::vector<std::atomic<qint64>> rawArrived(static_cast<size_t>(m));
        std::atomic<int> rawSeen{0};
        std::atomic<bool> stopRaw{false};
        std::thread rawReader([&] {
            redisContext *c = redisConnect(host.toUtf8().constData(), port);
            if (!c || c->err)
                return;
            const QByteArray key = stream.toUtf8();
            QByteArray last = "0";  // the stream is new: every entry
            while (!stopRaw.load() && rawSeen.load() < m) {
                auto *r = static_cast<redisReply *>(redisCommand(c, "XREAD BLOCK 200 STREAMS %b %b", key.constData(),
                                                                 size_t(key.size()), last.constData(), size_t(last.size())));
                if (!r)
                    break;
                const qint64 now = nowNs();
                if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2) {
                    const redisReply *entries = r->element[0]->element[1];
                    for (size_t e = 0; e < entries->elements; ++e) {
                        const redisReply *entry = entries->element[e];
                        last = QByteArray(entry->element[0]->str, qsizetype(entry->element[0]->len));
                        const redisReply *fields = entry->element[1];
                        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
                            if (qstrcmp(fields->element[f]->str, "payload") != 0)
                                continue;
                            const QByteArrayView payload(fields->element[f + 1]->str, qsizetype(fields->element[f + 1]->len));
                            const qsizetype at = payload.indexOf("\"c-");
                            if (at < 0)
                                continue;
                            int i = 0;
                            for (qsizetype k = at + 3; k < payload.size() && payload[k] >= '0' && payload[k] <= '9'; ++k)
                                i = i * 10 + (payload[k] - '0');
                            if (i >= 0 && i < m && rawArrived[size_t(i)].exchange(now) == 0)
                                ++rawSeen;
                        }
                    }
                }
                freeReplyObject(r);
            }
            redisFree(c);
        });
        std::vector<qint64> sentNs(static_cast<size_t>(m), 0);
        QObject::connect(&sub, &Subscriber::eventsReceived, &sub, [&](const QList<StoredEvent> &rows) {
            const qint64 now = nowNs();
            for (const StoredEvent &r : rows) {
                if (!r.event)
                    continue;
                const auto &c = std::get<events::ChallengeResolved>(r.event->data());
                if (auto it = sentAt.find(c.challengeId.value_or(QString())); it != sentAt.end())
                    latencies.append(double(now - *it) / 1e6);
            }
        });
        // Paced by a precise timer, and waiting in the event loop: neither
        // side's wake-ups are hidden by a spinning wait, nor a core taken.
        QEventLoop loop;
        QElapsedTimer t;
        t.start();
        int next = 0;
        QTimer pace;
        pace.setTimerType(Qt::PreciseTimer);
        pace.setInterval(1);
        QObject::connect(&pace, &QTimer::timeout, &loop, [&] {
            for (; next < m && t.nsecsElapsed() >= qint64(next) * 1000000000LL / ratePerSecond; ++next) {
                sentNs[size_t(next)] = nowNs();
                sentAt.insert(u"c-%1"_s.arg(next), sentNs[size_t(next)]);
                busA.publish(sample(next));
            }
            if (next == m)
                pace.stop();
        });
        QObject::connect(&sub, &Subscriber::eventsReceived, &loop, [&] {
            if (latencies.size() >= m)
                loop.quit();
        });
        QTimer::singleShot(m * 1000 / ratePerSecond + 10000, &loop, &QEventLoop::quit);
        pace.start();
        loop.exec();
        QElapsedTimer grace;
        grace.start();
        std::printf("cross-node publish -> receive (%d events at %d/s): received %lld/%d, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", m,
                    ratePerSecond, static_cast<long long>(latencies.size()), m, percentile(latencies, 0.5),
                    percentile(latencies, 0.99), percentile(latencies, 1.0));
        while (rawSeen.load() < m && grace.elapsed() < 10000)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        stopRaw = true;
        rawReader.join();
        QList<double> rawLatencies;
        for (int i = 0; i < m; ++i)
            if (const qint64 at = rawArrived[size_t(i)].load(); at > 0)
                rawLatencies.append(double(at - sentNs[size_t(i)]) / 1e6);
        std::printf("baseline, raw hiredis XREAD BLOCK on the same entries: received %lld/%d, p50 %.2f ms, p99 %.2f ms\n",
                    qlonglong(rawLatencies.size()), m, percentile(rawLatencies, 0.5), percentile(rawLatencies, 0.99));
        printP99("redis_cross_node", percentile(latencies, 0.99), percentile(rawLatencies, 0.99));
    }
    if (failedPublishes > 0) {
        std::fprintf(stderr, "bench_redis_bus: %lld publishes failed: the figures above do not measure the work\n",
                     qlonglong(failedPublishes));
        return 1;
    }
    return 0;
}
