// bench_record: EngineRecorder against a stand-in engine on loopback (its
// server on a thread of its own), with messages of realistic sizes (the
// fixtures of today's engine, 100 B to 2 KB).
//  - paced: 5,000 messages a second for 60 s (3 s quick): how many were lost,
//    and send → durable (an upper bound of receive → durable: it includes the
//    loopback hop), p50 / p99 / max;
//  - burst: 50,000 as fast as the server writes (10,000 quick): messages a
//    second the recorder makes durable, against a raw QWebSocket client that
//    only receives and counts them, in the same run.
// Prints figures; exits non-zero only when a run could not be made at all.
#include "BusNotifier.h"
#include "EngineRecorder.h"
#include "SqliteEventStore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QUuid>
#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>

using namespace Qt::StringLiterals;
using namespace eventdesk;

namespace {

struct Script {
    QList<QString> messages;  // cycled
    int total = 0;
    int perSecond = 0;        // 0: as fast as it goes
};

// The stand-in: answers JoinWorld with WorldJoined and then sends the script,
// stamping each message's send time (steady clock, ns) in sentAt.
class Engine final : public QObject
{
public:
    Engine(QString world, Script script, std::vector<qint64> *sentAt, QElapsedTimer *clock)
        : m_world(std::move(world)), m_script(std::move(script)), m_sentAt(sentAt), m_clock(clock)
    {
    }
    quint16 listen()
    {
        // Accepted by a QTcpServer of its own with Nagle off, then handed to the
        // WebSocket server: a socket QWebSocketServer accepts keeps Nagle on,
        // and its 20-40 ms would be measured instead of the recorder.
        m_server = new QWebSocketServer(u"stand-in"_s, QWebSocketServer::NonSecureMode, this);
        m_tcp = new QTcpServer(this);
        m_tcp->listen(QHostAddress::LocalHost, 0);
        connect(m_tcp, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_tcp->nextPendingConnection()) {
                socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
                m_server->handleConnection(socket);
            }
        });
        connect(m_server, &QWebSocketServer::newConnection, this, [this] {
            QWebSocket *ws = m_server->nextPendingConnection();
            ws->setParent(this);
            connect(ws, &QWebSocket::textMessageReceived, this, [this, ws](const QString &text) {
                const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
                if (m.value("type"_L1) == "JoinWorld"_L1) {
                    ws->sendTextMessage(uR"({"type":"WorldJoined","world_id":"%1","snapshot":{"world":{"name":"Bench"}},"connected_users":[],"your_role":"Spectator","your_pc":null})"_s.arg(m_world));
                    start(ws);
                } else if (m.value("type"_L1) == "Heartbeat"_L1) {
                    ws->sendTextMessage(u"{\"type\":\"Pong\"}"_s);
                }
            });
        });
        return m_tcp->serverPort();
    }

private:
    void start(QWebSocket *ws)
    {
        auto *tick = new QTimer(ws);
        tick->setTimerType(Qt::PreciseTimer);
        const qint64 begin = m_clock->nsecsElapsed();
        connect(tick, &QTimer::timeout, ws, [this, ws, tick, begin] {
            // Every message due by now (a late tick catches up: the rate holds).
            const qint64 due = m_script.perSecond > 0
                ? std::min<qint64>(m_script.total, (m_clock->nsecsElapsed() - begin) * m_script.perSecond / 1000000000 + 1)
                : std::min(m_script.total, m_sent + 500);
            for (; m_sent < due; ++m_sent) {
                (*m_sentAt)[size_t(m_sent)] = m_clock->nsecsElapsed();
                ws->sendTextMessage(m_script.messages.at(m_sent % m_script.messages.size()));
            }
            ws->flush();
            if (m_sent >= m_script.total)
                tick->stop();
        });
        tick->start(m_script.perSecond > 0 ? 1 : 0);
    }

    QString m_world;
    Script m_script;
    std::vector<qint64> *m_sentAt;
    QElapsedTimer *m_clock;
    QWebSocketServer *m_server = nullptr;
    QTcpServer *m_tcp = nullptr;
    int m_sent = 0;
};

struct EngineThread {
    QThread thread;
    Engine *engine = nullptr;
    quint16 port = 0;
    EngineThread(const QString &world, const Script &script, std::vector<qint64> *sentAt, QElapsedTimer *clock)
    {
        engine = new Engine(world, script, sentAt, clock);
        engine->moveToThread(&thread);
        thread.start();
        QMetaObject::invokeMethod(engine, [this] { port = engine->listen(); }, Qt::BlockingQueuedConnection);
    }
    ~EngineThread()
    {
        QMetaObject::invokeMethod(engine, [this] { delete engine; }, Qt::BlockingQueuedConnection);
        thread.quit();
        thread.wait();
    }
};

QList<QString> realisticMessages()
{
    QList<QString> out;
    QFile f(QStringLiteral(EVENTDESK_BENCH_FIXTURES "/engine/server_messages.jsonl"));
    if (f.open(QIODevice::ReadOnly))
        for (const QByteArray &line : f.readAll().split('\n'))
            if (!line.trimmed().isEmpty())
                out.append(QString::fromUtf8(line));
    return out;
}

// Runs the event loop until done() (looked at every millisecond) or the time
// is up. Not QTest::qWaitFor: it sleeps 10 ms between looks, and on the
// thread the recorder runs on that sleep would be measured as its latency.
template <typename F>
bool waitUntil(F done, int ms)
{
    QEventLoop loop;
    QTimer look;
    QObject::connect(&look, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    look.start(1);
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
    return done();
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

struct Run {
    qint64 stored = 0;
    double seconds = 0;
    std::vector<double> latencyMs;
};

// The recorder into a fresh SQLite log, against a stand-in sending script.
std::optional<Run> recordRun(const Script &script, int waitSeconds)
{
    QTemporaryDir dir;
    SqliteOptions o;
    o.path = dir.filePath(u"record.db"_s);
    o.create = true;
    SqliteEventStore store(o);
    if (!store.openAndWait().ok())
        return std::nullopt;
    BusNotifier notifier(0);
    QElapsedTimer clock;
    clock.start();
    std::vector<qint64> sentAt(size_t(script.total), 0);
    const QString world = QUuid::createUuid().toString(QUuid::WithoutBraces);
    EngineThread engine(world, script, &sentAt, &clock);
    EngineRecorder::Options options;
    options.engine = QUrl(u"ws://127.0.0.1:%1/ws"_s.arg(engine.port));
    options.worldId = world;
    options.heartbeatMs = 0;
    EngineRecorder recorder(store, notifier, options);
    Run run;
    qint64 firstSent = -1, lastDurable = 0;
    QObject::connect(&recorder, &EngineRecorder::storedUpTo, &recorder, [&](qint64 stored, qint64) {
        const qint64 now = clock.nsecsElapsed();
        for (qint64 i = run.stored; i < stored && i < script.total; ++i)
            run.latencyMs.push_back(double(now - sentAt[size_t(i)]) / 1e6);
        run.stored = stored;
        lastDurable = now;
    });
    recorder.start();
    if (!waitUntil([&] { return run.stored >= script.total; }, waitSeconds * 1000))
        std::fprintf(stderr, "bench_record: %lld of %d stored when the wait ended\n", qlonglong(run.stored), script.total);
    firstSent = sentAt.empty() ? 0 : sentAt[0];
    run.seconds = double(lastDurable - firstSent) / 1e9;
    return run;
}

// The raw client: receives and counts, nothing else (latencyMs: send → received).
double rawRun(const Script &script, int waitSeconds, std::vector<double> *latencyMs = nullptr)
{
    QElapsedTimer clock;
    clock.start();
    std::vector<qint64> sentAt(size_t(script.total), 0);
    const QString world = QUuid::createUuid().toString(QUuid::WithoutBraces);
    EngineThread engine(world, script, &sentAt, &clock);
    QWebSocket ws;
    ws.setMaxAllowedIncomingMessageSize(16 << 20);
    qint64 received = -1, last = 0;  // the join's answer is not counted
    QObject::connect(&ws, &QWebSocket::textMessageReceived, &ws, [&](const QString &) {
        last = clock.nsecsElapsed();
        if (latencyMs && received >= 0 && received < script.total)
            latencyMs->push_back(double(last - sentAt[size_t(received)]) / 1e6);
        ++received;
    });
    QObject::connect(&ws, &QWebSocket::connected, &ws, [&] {
        ws.sendTextMessage(QString::fromUtf8(EngineRecorder::joinMessage(world, EngineRecorder::Role::Spectator, u"raw"_s, {})));
    });
    ws.open(QUrl(u"ws://127.0.0.1:%1/ws"_s.arg(engine.port)));
    if (!waitUntil([&] { return received >= script.total; }, waitSeconds * 1000))
        std::fprintf(stderr, "bench_record: the raw client got %lld of %d\n", qlonglong(received), script.total);
    return received > 0 ? double(received) / (double(last - sentAt[0]) / 1e9) : 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(u"eventdesk.*=false"_s);
    const bool quick = qEnvironmentVariableIsSet("EVENTDESK_BENCH_QUICK");
    const QList<QString> messages = realisticMessages();
    if (messages.isEmpty()) {
        std::fprintf(stderr, "bench_record: no fixture messages\n");
        return 1;
    }
    qint64 bytes = 0;
    for (const QString &m : messages)
        bytes += m.toUtf8().size();
    std::printf("messages: %lld fixtures of today's engine, %lld B on average\n", qlonglong(messages.size()),
                qlonglong(bytes / messages.size()));

    const int seconds = quick ? 3 : 60;
    Script paced{messages, 5000 * seconds, 5000};
    const auto p = recordRun(paced, seconds + 30);
    if (!p) {
        std::fprintf(stderr, "bench_record: cannot open a log\n");
        return 1;
    }
    std::printf("record_paced: %d messages at 5,000/s for %d s: %lld stored, %lld lost\n", paced.total, seconds,
                qlonglong(p->stored), qlonglong(paced.total - p->stored));
    std::printf("record_durable: p99 %.2f ms (p50 %.2f ms, max %.2f ms; send → durable, the loopback hop included)\n",
                percentile(p->latencyMs, 0.99), percentile(p->latencyMs, 0.5), percentile(p->latencyMs, 1.0));

    std::vector<double> rawLatency;
    rawRun(paced, seconds + 30, &rawLatency);
    std::printf("record_received_baseline: p99 %.2f ms (p50 %.2f ms; send → received by the raw client, the same pace)\n",
                percentile(rawLatency, 0.99), percentile(rawLatency, 0.5));

    Script burst{messages, quick ? 10000 : 50000, 0};
    const auto r = recordRun(burst, 120);
    const double baseline = rawRun(burst, 120);
    const double eventdesk = r && r->seconds > 0 ? double(r->stored) / r->seconds : 0;
    std::printf("record_throughput: ratio %.2f (eventdesk %.0f msg/s, baseline %.0f msg/s; %d messages as fast as "
                "the stand-in writes; the baseline only receives and counts)\n",
                baseline > 0 ? eventdesk / baseline : 0.0, eventdesk, baseline, burst.total);
    return r && r->stored == burst.total && p->stored == paced.total ? 0 : 1;
}
