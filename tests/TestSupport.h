// Helpers shared by the bus test suites: waiting on futures without blocking
// the event loop, and a second process that plays the engine on the same file.
#pragma once

#include <QFuture>
#include <QProcess>
#include <QTest>

namespace eventdesk::test {

// Waits for a future while the event loop keeps running (continuations with a
// context object need it), then returns its result.
template <typename T>
T await(QFuture<T> future, int timeoutMs = 30000)
{
    if (!QTest::qWaitFor([&] { return future.isFinished(); }, timeoutMs))
        qFatal("future did not finish within %d ms", timeoutMs);
    return future.result();
}

// A Result's error for a QVERIFY2 message (which is built even when the check passes).
template <typename R>
QByteArray why(const R &result)
{
    return result.ok() ? QByteArray() : result.error().message.toUtf8();
}

// Runs python3's sqlite3 module on a database file: the engine's stand-in, a
// separate process with its own connection.
inline QProcess *startPython(const QString &script, const QStringList &args, QObject *parent)
{
    auto *p = new QProcess(parent);
    p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p->start(QStringLiteral("python3"), QStringList{QStringLiteral("-c"), script} + args);
    return p;
}

inline int runPython(const QString &script, const QStringList &args, QByteArray *out = nullptr)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(QStringLiteral("python3"), QStringList{QStringLiteral("-c"), script} + args);
    if (!p.waitForFinished(60000))
        return -1;
    if (out)
        *out = p.readAllStandardOutput();
    return p.exitCode();
}

} // namespace eventdesk::test
