// Fan-out benchmark of the session server. Prints figures; never fails on time.
// 1, 100 and 1,000 connected clients (in a separate client process) while
// 1,000 events/s are published for 10 s: delivered/expected, publish → receive
// latency p50/p99, server RSS. The baseline, in the same run at each size: a
// bare QWebSocketServer broadcasting the same message at the same rate.
// EVENTDESK_BENCH_QUICK=1: 1 and 100 clients for 2 s.
// EVENTDESK_FANOUT_CLIENTS=N: that size only. EVENTDESK_FANOUT_TRACE=1: also
// the way before the fan-out (publish -> committed, publish -> a subscriber on
// the session's thread) and where in the run the late messages were.
#include "BenchSupport.h"
#include "BusNotifier.h"
#include "EventCodec.h"
#include "SessionMessage.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"
#include "Subscriber.h"
#include "Timestamp.h"

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
#include <memory>
#include <mutex>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using namespace eventdesk::bench;

namespace {

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

// This process's CPU time so far: user and kernel, in seconds (/proc/self/stat).
std::pair<double, double> cpuSeconds()
{
    QFile f(u"/proc/self/stat"_s);
    if (!f.open(QIODevice::ReadOnly))
        return {0, 0};
    const QByteArray stat = f.readAll();
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    const double tick = double(sysconf(_SC_CLK_TCK));
    return fields.size() > 12 ? std::pair{fields.at(11).toDouble() / tick, fields.at(12).toDouble() / tick} : std::pair{0.0, 0.0};
}

// EVENTDESK_FANOUT_TRACE=1, in both processes.
bool traceAsked()
{
    return qEnvironmentVariableIntValue("EVENTDESK_FANOUT_TRACE") != 0;
}

// The clients' side: raw non-blocking sockets on one epoll, so that a
// thousand of them in one process cost as little as the kernel lets them (a
// Qt socket per client polls every descriptor on each wake and copies each
// read twice; with 1,000 clients that process became the limit, not the
// server it measures). Handshake, one masked Join, unmasked frames parsed by hand.
struct LeanClient {
    int fd = -1;
    QByteArray buffer;
    bool connected = false;
    bool upgraded = false;
};

QByteArray maskedFrame(uchar opcode, const QByteArray &payload)
{
    QByteArray f;
    f += char(opcode);
    if (payload.size() < 126) {
        f += char(0x80 | payload.size());
    } else {
        f += char(0x80 | 126);
        f += char(payload.size() >> 8);
        f += char(payload.size() & 0xff);
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f += char(payload[i] ^ mask[i % 4]);
    return f;
}

bool writeAll(int fd, const QByteArray &bytes)
{
    for (qsizetype done = 0; done < bytes.size();) {
        const ssize_t w = ::write(fd, bytes.constData() + done, size_t(bytes.size() - done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;  // small writes on a fresh socket: never EAGAIN in practice
        done += w;
    }
    return true;
}

// The client process: N clients; prints "ready", then one line of results once
// every client has `expect` events or the time is up.
int clientProcess(const QUrl &url, int n, int expect, int seconds, const QString &token)
{
    std::vector<LeanClient> clients(static_cast<size_t>(n));
    QList<double> latencies;
    latencies.reserve(qsizetype(n) * expect);
    // Traced: where in the run the late messages were, by 100 ms of send
    // time (the first message sent opens the first slot).
    const bool trace = traceAsked();
    struct Slot {
        double max = 0;
        qint64 late = 0;
        qint64 count = 0;
    };
    std::vector<Slot> timeSlots;
    qint64 firstSent = 0;
    qint64 delivered = 0;
    int joined = 0;
    int closed = 0;
    const QByteArray join = token.isEmpty() ? QByteArray()
        : maskedFrame(0x81, QByteArray(R"({"type":"Join","role":"dm","world_id":"*","name":"bench","dm_token":")") + token.toLatin1() + "\"}");
    const QByteArray upgrade = "GET / HTTP/1.1\r\nHost: " + url.host().toLatin1() + "\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n\r\n";
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(quint16(url.port()));
    inet_pton(AF_INET, url.host().toLatin1().constData(), &to.sin_addr);
    // Connections open in waves no bigger than the server's listen backlog:
    // past it the kernel drops handshakes and retries them seconds later.
    constexpr int MaxOpening = 32;
    int opened = 0, opening = 0;
    const auto openMore = [&] {
        for (; opened < n && opening < MaxOpening; ++opened, ++opening) {
            LeanClient &c = clients[size_t(opened)];
            c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            const int one = 1;
            setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (::connect(c.fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
                std::fprintf(stderr, "client %d: connect: %s\n", opened, std::strerror(errno));
                std::exit(1);
            }
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT;
            ev.data.u32 = quint32(opened);
            epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        }
    };
    openMore();
    const auto onReadable = [&](LeanClient &c) {
        char chunk[65536];
        for (;;) {
            const ssize_t r = ::read(c.fd, chunk, sizeof chunk);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                // Closed by the server: counted, and no longer watched.
                epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                ++closed;
                break;
            }
            if (r < 0)
                break;
            c.buffer.append(chunk, r);
            if (r < ssize_t(sizeof chunk))
                break;
        }
        const qint64 now = nowNs();
        if (!c.upgraded) {
            const qsizetype end = c.buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            c.buffer.remove(0, end + 4);
            c.upgraded = true;
            --opening;
            openMore();
            if (join.isEmpty())
                ++joined;
            else
                writeAll(c.fd, join);
        }
        qsizetype pos = 0;
        while (c.buffer.size() - pos >= 2) {
            const auto *d = reinterpret_cast<const uchar *>(c.buffer.constData() + pos);
            qint64 len = d[1] & 0x7f;
            qsizetype header = 2;
            if (len == 126) {
                if (c.buffer.size() - pos < 4)
                    break;
                len = (qint64(d[2]) << 8) | d[3];
                header = 4;
            } else if (len == 127) {
                if (c.buffer.size() - pos < 10)
                    break;
                len = 0;
                for (int k = 0; k < 8; ++k)
                    len = (len << 8) | d[2 + k];
                header = 10;
            }
            if (c.buffer.size() - pos < header + len)
                break;
            const QByteArrayView payload(c.buffer.constData() + pos + header, len);
            if ((d[0] & 0x0f) == 9)  // a ping: answered, as every client must
                writeAll(c.fd, maskedFrame(0x8a, payload.toByteArray()));
            if ((d[0] & 0x0f) == 1) {
                // memmem: QByteArrayView::indexOf here took a third of this process.
                static constexpr char Key[] = "\"sent_ns\":";
                const void *hit = memmem(payload.data(), size_t(payload.size()), Key, sizeof Key - 1);
                if (hit) {
                    qint64 sent = 0;
                    const qsizetype at = static_cast<const char *>(hit) - payload.data();
                    for (qsizetype k = at + qsizetype(sizeof Key - 1); k < payload.size() && payload[k] >= '0' && payload[k] <= '9'; ++k)
                        sent = sent * 10 + (payload[k] - '0');
                    const double ms = double(now - sent) / 1e6;
                    latencies.append(ms);
                    ++delivered;
                    if (trace) {
                        if (firstSent == 0)
                            firstSent = sent;
                        const size_t at = size_t(std::max<qint64>(0, sent - firstSent) / 100'000'000);
                        if (at >= timeSlots.size())
                            timeSlots.resize(at + 1);
                        timeSlots[at].max = std::max(timeSlots[at].max, ms);
                        timeSlots[at].late += ms > 25.0 ? 1 : 0;
                        ++timeSlots[at].count;
                    }
                } else if (payload.indexOf("\"Joined\"") >= 0) {
                    ++joined;
                }
            }
            pos += header + len;
        }
        c.buffer.remove(0, pos);
    };
    bool ready = false;
    std::pair<double, double> cpuAtReady{0, 0};
    QElapsedTimer sinceReady, sinceStart;
    sinceStart.start();
    std::vector<epoll_event> events(static_cast<size_t>(n));
    for (;;) {
        const int got = epoll_wait(ep, events.data(), n, 20);
        for (int e = 0; e < got; ++e) {
            LeanClient &c = clients[events[size_t(e)].data.u32];
            if (!c.connected && (events[size_t(e)].events & EPOLLOUT)) {
                c.connected = true;
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u32 = events[size_t(e)].data.u32;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                writeAll(c.fd, upgrade);
            }
            if (events[size_t(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                onReadable(c);
        }
        if (!ready && joined == n) {
            ready = true;
            cpuAtReady = cpuSeconds();
            sinceReady.start();
            std::printf("ready\n");
            std::fflush(stdout);
        }
        if (ready && (delivered >= qint64(n) * expect || sinceReady.elapsed() > (seconds + 5) * 1000))
            break;
        if (!ready && sinceStart.elapsed() > 120000)
            break;
    }
    // And how busy this process was: user and kernel, as % of a core.
    const std::pair<double, double> cpu = cpuSeconds();
    const double wall = std::max(1e-3, double(sinceReady.elapsed()) / 1000.0);
    std::printf("%lld %.3f %.3f %.3f %.1f %.1f\n", qlonglong(delivered), percentile(latencies, 0.5), percentile(latencies, 0.99),
                percentile(latencies, 1.0), 100.0 * (cpu.first - cpuAtReady.first) / wall,
                100.0 * (cpu.second - cpuAtReady.second) / wall);
    std::fflush(stdout);
    if (closed > 0)
        std::fprintf(stderr, "  %d of the %d clients were closed by the server\n", closed, n);
    if (trace) {
        std::fprintf(stderr, "  by 100 ms of send time, where a message took over 25 ms (slot: late/messages, max ms):");
        bool any = false;
        for (size_t i = 0; i < timeSlots.size(); ++i) {
            if (timeSlots[i].late > 0) {
                std::fprintf(stderr, " %.1fs: %lld/%lld %.0f;", double(i) / 10.0, qlonglong(timeSlots[i].late),
                             qlonglong(timeSlots[i].count), timeSlots[i].max);
                any = true;
            }
        }
        std::fprintf(stderr, "%s\n", any ? "" : " none");
    }
    for (LeanClient &c : clients)
        ::close(c.fd);
    ::close(ep);
    return 0;
}

struct Figures {
    qint64 delivered = 0;
    qint64 expected = 0;
    double p50 = 0, p99 = 0, max = 0;
    qint64 rssStartKb = 0, rssEndKb = 0, rssPeakKb = 0;
    // % of a core while it ran: the client process and this one, user and kernel.
    double clientUser = 0, clientKernel = 0, serverUser = 0, serverKernel = 0;
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
    // Sleeps between events (processEvents with a time would spin a core
    // that the server's threads and the clients' process need).
    QEventLoop idle;
    QObject::connect(&proc, &QProcess::readyReadStandardOutput, &idle, &QEventLoop::quit);
    QObject::connect(&proc, &QProcess::finished, &idle, &QEventLoop::quit);
    QTimer giveUp;
    giveUp.setSingleShot(true);
    QObject::connect(&giveUp, &QTimer::timeout, &idle, &QEventLoop::quit);
    giveUp.start(120000);
    while (proc.state() != QProcess::NotRunning && !proc.canReadLine() && giveUp.isActive())
        idle.exec();
    proc.readLine();  // ready
    f.rssStartKb = rssKb("VmRSS:");
    const std::pair<double, double> cpuStart = cpuSeconds();
    QElapsedTimer running;
    running.start();
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
        idle.exec();
    const std::pair<double, double> cpuEnd = cpuSeconds();
    const double wall = std::max(1e-3, double(running.elapsed()) / 1000.0);
    f.serverUser = 100.0 * (cpuEnd.first - cpuStart.first) / wall;
    f.serverKernel = 100.0 * (cpuEnd.second - cpuStart.second) / wall;
    proc.waitForReadyRead(1000);
    const QList<QByteArray> parts = proc.readLine().trimmed().split(' ');
    proc.waitForFinished(10000);
    f.rssEndKb = rssKb("VmRSS:");
    f.rssPeakKb = rssKb("VmHWM:");
    if (parts.size() == 6) {
        f.delivered = parts[0].toLongLong();
        f.p50 = parts[1].toDouble();
        f.p99 = parts[2].toDouble();
        f.max = parts[3].toDouble();
        f.clientUser = parts[4].toDouble();
        f.clientKernel = parts[5].toDouble();
    }
    return f;
}

} // namespace

int main(int argc, char *argv[])
{
    // As `eventdesk serve` runs: Qt's own event dispatcher, not GLib's.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("eventdesk.*.info=false"));
    const QStringList args = app.arguments();
    if (args.size() >= 6 && args.at(1) == u"--client"_s)
        return clientProcess(QUrl(args.at(2)), args.at(3).toInt(), args.at(4).toInt(), args.at(5).toInt(), args.value(6));

    const bool quick = qEnvironmentVariableIntValue("EVENTDESK_BENCH_QUICK") != 0;
    const int seconds = quick ? 2 : 10;
    const int rate = 1000;
    std::printf("EventDesk session fan-out benchmark (%s): %d events/s for %d s\n", quick ? "quick" : "full", rate, seconds);

    // A round that delivered nothing measured nothing: the benchmark then fails (never on time).
    QStringList nothingDelivered;
    // The event every round publishes, and the message a client gets for it:
    // the baseline sends those same bytes (with its own send time), encoded
    // once per event as EventDesk encodes it, to the same number of clients.
    const auto sampleEvent = [](qint64 sentNs) {
        AppEvent e = events::ChallengeResolved{std::nullopt, u"Pick the lock"_s, u"w1"_s, u"pc7"_s, true, 14, 17, std::nullopt};
        e.setExtraFields(QJsonObject{{u"sent_ns"_s, sentNs}});
        return e;
    };
    const auto baseline = [&](int clients) {
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
        qint64 seq = 0;
        qsizetype bytes = 0;
        const Figures b = drive(url, clients, rate, seconds, QString(), [&](qint64 sentNs) {
            SessionEventMessage meta;
            meta.seq = ++seq;
            meta.createdAt = timestamp::now();
            const QString msg = QString::fromUtf8(session::encodeEventMessage(sampleEvent(sentNs), meta));
            bytes = msg.toUtf8().size();
            for (QWebSocket *p : peers)
                p->sendTextMessage(msg);
        });
        std::printf("baseline, bare QWebSocketServer, %4d clients (%lld-byte messages): delivered %lld/%lld, p50 %.2f ms, "
                    "p99 %.2f ms\n",
                    clients, qlonglong(bytes), qlonglong(b.delivered), qlonglong(b.expected), b.p50, b.p99);
        std::fflush(stdout);
        if (b.delivered == 0)
            nothingDelivered.append(u"the baseline at %1 clients"_s.arg(clients));
        for (QWebSocket *p : peers)
            p->abort();
        qDeleteAll(peers);
        return b;
    };

    QTemporaryDir dir;
    QList<int> counts = quick ? QList<int>{1, 100} : QList<int>{1, 100, 1000};
    if (const QByteArray only = qgetenv("EVENTDESK_FANOUT_CLIENTS"); !only.isEmpty())
        counts = {only.toInt()};  // one size only, for profiling
    for (int clients : counts) {
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
        // Every client here comes from 127.0.0.1 at once: the budget for
        // connections that have not joined yet must hold them all.
        config.transport.maxPending = 4000;
        config.transport.maxPendingPerAddress = 4000;
        SessionServer server(store, bus, notifier, store.desk(), config);
        server.listen();
        // EVENTDESK_FANOUT_TRACE=1: a subscriber of this process beside the
        // session's, for the part of the way before the fan-out (publish ->
        // commit -> notify -> read, on this thread).
        QList<double> toSubscriber;
        std::unique_ptr<Subscriber> probe;
        if (traceAsked()) {
            probe = std::make_unique<Subscriber>(store, notifier, Subscriber::Options{.startAfter = 0});
            QObject::connect(probe.get(), &Subscriber::eventsReceived, probe.get(), [&](const QList<StoredEvent> &rows) {
                const qint64 now = nowNs();
                for (const StoredEvent &row : rows)
                    if (row.event)
                        toSubscriber.append(double(now - row.event->extraFields().value(u"sent_ns"_s).toInteger()) / 1e6);
            });
            probe->start();
        }
        // Filled on the store's thread; shared, so that a publish still
        // pending when the store goes cannot write into a dead list.
        struct Commits {
            std::mutex lock;
            QList<double> ms;
        };
        const auto commits = std::make_shared<Commits>();
        const Figures f = drive(server.url(), clients, rate, seconds, config.dmToken, [&](qint64 sentNs) {
            QFuture<PublishResult> done = bus.publish(sampleEvent(sentNs));
            if (probe)
                done.then(QtFuture::Launch::Sync, [commits, sentNs](const PublishResult &) {
                    const std::lock_guard lock(commits->lock);
                    commits->ms.append(double(nowNs() - sentNs) / 1e6);
                });
        });
        std::printf("EventDesk, %4d clients: delivered %lld/%lld (%.1f%%), p50 %.2f ms, p99 %.2f ms, max %.1f ms, "
                    "RSS %lld -> %lld MB (peak %lld MB)\n",
                    clients, qlonglong(f.delivered), qlonglong(f.expected),
                    f.expected ? 100.0 * double(f.delivered) / double(f.expected) : 0.0, f.p50, f.p99, f.max,
                    qlonglong(f.rssStartKb / 1024), qlonglong(f.rssEndKb / 1024), qlonglong(f.rssPeakKb / 1024));
        std::printf("  CPU, %% of a core (user + kernel): the %d clients' process %.0f + %.0f, the server's process %.0f + %.0f\n",
                    clients, f.clientUser, f.clientKernel, f.serverUser, f.serverKernel);
        if (probe) {
            const QList<double> committed = [&] {
                const std::lock_guard lock(commits->lock);
                return commits->ms;
            }();
            std::printf("  publish -> committed (the store's thread): p50 %.2f ms, p99 %.2f ms, max %.1f ms\n",
                        percentile(committed, 0.5), percentile(committed, 0.99), percentile(committed, 1.0));
            std::printf("  publish -> a subscriber on the session's thread: p50 %.2f ms, p99 %.2f ms, max %.1f ms\n",
                        percentile(toSubscriber, 0.5), percentile(toSubscriber, 0.99), percentile(toSubscriber, 1.0));
        }
        std::fflush(stdout);
        if (f.delivered == 0)
            nothingDelivered.append(u"%1 clients"_s.arg(clients));
        // The bare server at the same size, right after, on the same machine state.
        if (clients > 1) {
            const Figures b = baseline(clients);
            std::printf("  CPU, %% of a core (user + kernel): the %d clients' process %.0f + %.0f, the bare server's %.0f + %.0f\n",
                        clients, b.clientUser, b.clientKernel, b.serverUser, b.serverKernel);
            if (b.p99 > 0)
                std::printf("  p99 ratio to the bare server at %d clients: %.2f (goal <= 1.5)\n", clients, f.p99 / b.p99);
            printP99(clients == 100 ? "fanout_100_clients" : clients == 1000 ? "fanout_1000_clients" : "fanout_clients", f.p99, b.p99);
        }
        // Close the session and let the sockets' deferred deletes and the
        // store's last replies run before the objects go, in order.
        server.close();
        QElapsedTimer settle;
        settle.start();
        while (settle.elapsed() < 200)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    }
    if (!nothingDelivered.isEmpty()) {
        std::fprintf(stderr, "bench_fanout: nothing was delivered (%s): no figure measured\n",
                     qPrintable(nothingDelivered.join(u", "_s)));
        return 1;
    }
    return 0;
}
