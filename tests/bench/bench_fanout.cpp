// Fan-out benchmark of the session server. Prints figures; never fails on time.
// 1, 100 and 1,000 connected clients (in a separate client process) while
// 1,000 events/s are published for 10 s: delivered/expected, publish → receive
// latency p50/p99, server RSS. The baseline, in the same run: a bare
// QWebSocketServer broadcasting the same rate to 100 clients.
// EVENTDESK_BENCH_QUICK=1: 1 and 100 clients for 2 s.
#include "BusNotifier.h"
#include "EventCodec.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <chrono>
#include <cstdio>

using namespace Qt::StringLiterals;
using namespace eventdesk;

namespace {

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

qint64 rssKb(const char *field)
{
    QFile f(u"/proc/self/status"_s);
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith(field))
            return line.mid(qstrlen(field)).trimmed().split(' ').first().toLongLong();
    return 0;
}

double percentile(QList<double> v, double p)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.at(std::min<qsizetype>(v.size() - 1, qsizetype(p * double(v.size()))));
}

// The client process: N WebSocket clients; prints "ready", then one line of
// results once every client has `expect` events or the time is up.
int clientProcess(const QUrl &url, int n, int expect, int seconds, const QString &token)
{
    std::vector<std::unique_ptr<QWebSocket>> sockets;
    QList<double> latencies;
    latencies.reserve(qsizetype(n) * expect);
    qint64 delivered = 0;
    int joined = 0;
    bool ready = false;
    for (int i = 0; i < n; ++i) {
        auto ws = std::make_unique<QWebSocket>();
        QWebSocket *w = ws.get();
        QObject::connect(w, &QWebSocket::connected, w, [w, token, i] {
            if (token.isEmpty()) {
                QObject::connect(w, &QWebSocket::textMessageReceived, w, [](const QString &) {});
                return;
            }
            w->sendTextMessage(QString::fromUtf8(QJsonDocument(QJsonObject{
                {u"type"_s, u"Join"_s}, {u"role"_s, u"dm"_s}, {u"world_id"_s, u"*"_s},
                {u"name"_s, u"bench-%1"_s.arg(i)}, {u"dm_token"_s, token}}).toJson(QJsonDocument::Compact)));
        });
        QObject::connect(w, &QWebSocket::textMessageReceived, w, [&](const QString &text) {
            const qint64 now = nowNs();
            const qsizetype at = text.indexOf(u"\"sent_ns\":"_s);
            if (at >= 0) {
                qsizetype end = at + 10;
                while (end < text.size() && text.at(end).isDigit())
                    ++end;
                latencies.append(double(now - QStringView(text).mid(at + 10, end - at - 10).toLongLong()) / 1e6);
                ++delivered;
            } else if (text.contains(u"\"Joined\""_s)) {
                ++joined;
            }
        });
        w->open(url);
        sockets.push_back(std::move(ws));
    }
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &poll, [&] {
        const bool allIn = token.isEmpty()
            ? std::all_of(sockets.begin(), sockets.end(), [](const auto &s) { return s->state() == QAbstractSocket::ConnectedState; })
            : joined == n;
        if (!ready && allIn) {
            ready = true;
            std::printf("ready\n");
            std::fflush(stdout);
            QTimer::singleShot((seconds + 5) * 1000, qApp, &QCoreApplication::quit);
        }
        if (ready && delivered >= qint64(n) * expect)
            QCoreApplication::quit();
    });
    poll.start(20);
    QCoreApplication::exec();
    std::printf("%lld %.3f %.3f %.3f\n", qlonglong(delivered), percentile(latencies, 0.5), percentile(latencies, 0.99),
                percentile(latencies, 1.0));
    std::fflush(stdout);
    return 0;
}

struct Figures {
    qint64 delivered = 0;
    qint64 expected = 0;
    double p50 = 0, p99 = 0, max = 0;
    qint64 rssStartKb = 0, rssEndKb = 0, rssPeakKb = 0;
};

// Runs the client process against `url`, calls publishOne at `rate`/s for `seconds`.
Figures drive(const QUrl &url, int clients, int rate, int seconds, const QString &token,
              const std::function<void(qint64 sentNs)> &publishOne)
{
    Figures f;
    f.expected = qint64(clients) * rate * seconds;
    QProcess proc;
    proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    proc.start(QCoreApplication::applicationFilePath(),
               {u"--client"_s, url.toString(), QString::number(clients), QString::number(rate * seconds),
                QString::number(seconds), token});
    QElapsedTimer wait;
    wait.start();
    while (!proc.canReadLine() && wait.elapsed() < 120000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    proc.readLine();  // ready
    f.rssStartKb = rssKb("VmRSS:");
    const int perTick = rate / 100;  // every 10 ms
    int sent = 0;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    QObject::connect(&tick, &QTimer::timeout, &tick, [&] {
        for (int i = 0; i < perTick && sent < rate * seconds; ++i, ++sent)
            publishOne(nowNs());
        if (sent >= rate * seconds)
            tick.stop();
    });
    tick.start(10);
    while (proc.state() != QProcess::NotRunning && !proc.canReadLine())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    proc.waitForReadyRead(1000);
    const QList<QByteArray> parts = proc.readLine().trimmed().split(' ');
    proc.waitForFinished(10000);
    f.rssEndKb = rssKb("VmRSS:");
    f.rssPeakKb = rssKb("VmHWM:");
    if (parts.size() == 4) {
        f.delivered = parts[0].toLongLong();
        f.p50 = parts[1].toDouble();
        f.p99 = parts[2].toDouble();
        f.max = parts[3].toDouble();
    }
    return f;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("eventdesk.*.info=false"));
    const QStringList args = app.arguments();
    if (args.size() >= 6 && args.at(1) == u"--client"_s)
        return clientProcess(QUrl(args.at(2)), args.at(3).toInt(), args.at(4).toInt(), args.at(5).toInt(), args.value(6));

    const bool quick = qEnvironmentVariableIntValue("EVENTDESK_BENCH_QUICK") != 0;
    const int seconds = quick ? 2 : 10;
    const int rate = 1000;
    std::printf("EventDesk session fan-out benchmark (%s): %d events/s for %d s\n", quick ? "quick" : "full", rate, seconds);

    // Baseline: a bare QWebSocketServer broadcasting to 100 clients.
    {
        QWebSocketServer bare(u"bare"_s, QWebSocketServer::NonSecureMode);
        bare.listen(QHostAddress::LocalHost, 0);
        std::vector<QWebSocket *> peers;
        QObject::connect(&bare, &QWebSocketServer::newConnection, &bare, [&] {
            while (bare.hasPendingConnections())
                peers.push_back(bare.nextPendingConnection());
        });
        QUrl url;
        url.setScheme(u"ws"_s);
        url.setHost(u"127.0.0.1"_s);
        url.setPort(bare.serverPort());
        const Figures b = drive(url, 100, rate, seconds, QString(), [&](qint64 sentNs) {
            const QString msg = u"{\"type\":\"ChallengeResolved\",\"sent_ns\":%1}"_s.arg(sentNs);
            for (QWebSocket *p : peers)
                p->sendTextMessage(msg);
        });
        std::printf("baseline, bare QWebSocketServer, 100 clients: delivered %lld/%lld, p50 %.2f ms, p99 %.2f ms\n",
                    qlonglong(b.delivered), qlonglong(b.expected), b.p50, b.p99);
    }

    QTemporaryDir dir;
    for (int clients : quick ? QList<int>{1, 100} : QList<int>{1, 100, 1000}) {
        SqliteOptions o;
        o.path = dir.filePath(u"fanout-%1.db"_s.arg(clients));
        SqliteEventStore store(o);
        store.openAndWait();
        BusNotifier notifier(0);
        StoreEventBus bus(store, notifier);
        SessionConfig config;
        config.port = 0;
        config.dmToken = u"0123456789abcdef0123456789abcdef"_s;
        config.maxClients = 2000;
        SessionServer server(store, bus, notifier, &store, config);
        server.listen();
        const Figures f = drive(server.url(), clients, rate, seconds, config.dmToken, [&](qint64 sentNs) {
            AppEvent e = events::ChallengeResolved{std::nullopt, u"Pick the lock"_s, u"w1"_s, u"pc7"_s, true, 14, 17, std::nullopt};
            e.setExtraFields(QJsonObject{{u"sent_ns"_s, sentNs}});
            bus.publish(e);
        });
        std::printf("EventDesk, %4d clients: delivered %lld/%lld (%.1f%%), p50 %.2f ms, p99 %.2f ms, max %.1f ms, "
                    "RSS %lld -> %lld MB (peak %lld MB)\n",
                    clients, qlonglong(f.delivered), qlonglong(f.expected),
                    f.expected ? 100.0 * double(f.delivered) / double(f.expected) : 0.0, f.p50, f.p99, f.max,
                    qlonglong(f.rssStartKb / 1024), qlonglong(f.rssEndKb / 1024), qlonglong(f.rssPeakKb / 1024));
    }
    return 0;
}
