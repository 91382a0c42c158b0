// A real redis-server for the Redis tests: on 127.0.0.1, a free port and a
// throw-away directory; stopped, restarted (same port, same data) and frozen
// by the fault tests. The shared one from the test command (EVENTDESK_TEST_REDIS)
// serves the others; each test uses its own stream name.
#pragma once

#include "AppEvent.h"
#include "Ports.h"
#include "RedisEventStore.h"

#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <csignal>
#include <memory>
#include <thread>

// In a test function: without redis-server the suite is skipped, except in CI,
// where a missing service fails the run (installer/test.sh installs and starts it).
#define EVENTDESK_REQUIRE_REDIS_SERVER()                                                       \
    do {                                                                                       \
        if (::eventdesk::test::RedisTestServer::executable().isEmpty()) {                      \
            if (qEnvironmentVariable("CI") == QLatin1StringView("true"))                        \
                QFAIL("redis-server is not installed, and CI must run the Redis tests");       \
            QSKIP("redis-server is not installed (installer/install-deps.sh installs it)");    \
        }                                                                                      \
    } while (false)

namespace eventdesk::test {

using namespace Qt::StringLiterals;

inline AppEvent story(const QString &world, const QString &id)
{
    return events::StoryEventCreated{id, world, u"dialogue"_s};
}

inline QList<qint64> ids(const QList<StoredEvent> &rows)
{
    QList<qint64> out;
    for (const StoredEvent &r : rows)
        out.append(r.id);
    return out;
}

// redis-cli against a server, for what EventDesk itself never sends.
inline QByteArray redisCli(const QString &address, const QStringList &args)
{
    QProcess p;
    const QStringList hostPort = address.split(u':');
    p.start(u"redis-cli"_s, QStringList{u"-h"_s, hostPort.value(0), u"-p"_s, hostPort.value(1)} + args);
    p.waitForFinished(10000);
    return p.readAllStandardOutput().trimmed();
}


class RedisTestServer
{
public:
    static QString executable() { return QStandardPaths::findExecutable(QStringLiteral("redis-server")); }

    ~RedisTestServer() { stop(); }

    // extraArgs: e.g. {"--requirepass", "secret"}.
    bool start(const QStringList &extraArgs = {})
    {
        if (!m_port) {
            QTcpServer probe;
            if (!probe.listen(QHostAddress::LocalHost, 0))
                return false;
            m_port = probe.serverPort();
        }
        m_args = QStringList{QStringLiteral("--bind"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"), QString::number(m_port),
                             QStringLiteral("--dir"), m_dir.path(), QStringLiteral("--save"), QString(),
                             QStringLiteral("--appendonly"), QStringLiteral("yes"), QStringLiteral("--appendfsync"), QStringLiteral("always"),
                             QStringLiteral("--daemonize"), QStringLiteral("no"), QStringLiteral("--logfile"),
                             m_dir.filePath(QStringLiteral("redis.log"))}
            + extraArgs;
        return launch();
    }

    bool restart()
    {
        stop();
        return launch();
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        resume();
        m_process.terminate();
        if (!m_process.waitForFinished(10000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    // Frozen: the socket stays open, nothing answers (SIGSTOP).
    void pause() { ::kill(pid_t(m_process.processId()), SIGSTOP); }
    void resume()
    {
        if (m_process.state() != QProcess::NotRunning)
            ::kill(pid_t(m_process.processId()), SIGCONT);
    }

    quint16 port() const { return m_port; }
    QString address() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }

    static bool isReady(const QString &hostPort)
    {
        QTcpSocket s;
        const QStringList parts = hostPort.split(QLatin1Char(':'));
        s.connectToHost(parts.value(0), quint16(parts.value(1).toUInt()));
        if (!s.waitForConnected(1000))
            return false;
        s.write("PING\r\n");
        if (!s.waitForReadyRead(1000))
            return false;
        const QByteArray reply = s.readAll();
        return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
    }

private:
    bool launch()
    {
        m_process.setStandardOutputFile(QProcess::nullDevice());
        m_process.setStandardErrorFile(QProcess::nullDevice());
        m_process.start(executable(), m_args);
        if (!m_process.waitForStarted(10000))
            return false;
        return QTest::qWaitFor([this] { return isReady(address()); }, 15000);
    }

    QTemporaryDir m_dir;
    QProcess m_process;
    QStringList m_args;
    quint16 m_port = 0;
};

// The server a suite's tests share: the test command's (EVENTDESK_TEST_REDIS),
// or one started into `own`. Empty when none could be had.
inline QString sharedRedisAddress(std::unique_ptr<RedisTestServer> &own)
{
    QString address = qEnvironmentVariable("EVENTDESK_TEST_REDIS");
    if (address.isEmpty()) {
        own = std::make_unique<RedisTestServer>();
        if (!own->start())
            return {};
        address = own->address();
    }
    return RedisTestServer::isReady(address) ? address : QString();
}

// A Redis store on `stream` of the server at `address`, opened (or the test run ends).
inline std::unique_ptr<RedisEventStore> openRedisStore(const QString &address, const QString &stream, const QString &extra = {})
{
    const Result<RedisEndpoint> ep = RedisEndpoint::parse(u"redis://%1/0?stream=%2%3"_s.arg(address, stream, extra));
    if (!ep)
        qFatal("bad test URL: %s", qPrintable(ep.error().message));
    auto store = std::make_unique<RedisEventStore>(ep.value());
    const Result<bool> opened = store->openAndWait();
    if (!opened)
        qFatal("cannot open the Redis store: %s", qPrintable(opened.error().message));
    return store;
}

// One publish from a producer thread of its own, waited for there (where a
// Redis store sends it on that thread's connection).
inline PublishResult publishOnOwnThread(EventBus &bus, const AppEvent &event)
{
    PublishResult r = Error{ErrorCode::Storage, {}, QStringLiteral("not published")};
    std::thread([&] {
        QFuture<PublishResult> f = bus.publish(event);
        f.waitForFinished();
        r = f.result();
    }).join();
    return r;
}

// A stream name no other test (or run) uses.
inline QString uniqueStream(const char *what)
{
    return QStringLiteral("test:%1:%2").arg(QLatin1StringView(what), QUuid::createUuid().toString(QUuid::Id128).left(12));
}

} // namespace eventdesk::test
