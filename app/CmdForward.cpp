// forward: an engine's SQLite app_events into a Redis stream.
#include "Cli.h"

#include "Forwarder.h"

#include <QCoreApplication>
#include <QFileInfo>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

int forwardCommand(const QStringList &args)
{
    CommandParser p(u"forward"_s, u"Bridge a database's app_events into a Redis stream: "
                                  "eventdesk forward --db engine.db --bus redis://127.0.0.1:6379/0. Each row lands once, "
                                  "across restarts (the cursor is kept in Redis). Runs until stopped."_s);
    const QCommandLineOption nameOption(u"name"_s, u"The source's name for its cursor (default: the database's full path)."_s, u"name"_s);
    const QCommandLineOption onceOption(u"once"_s, u"Forward what is there now, then exit."_s);
    const QCommandLineOption quietOption(u"quiet"_s, u"No progress bar with --once (there is one only when stderr is a terminal)."_s);
    p.addOption(nameOption);
    p.addOption(onceOption);
    p.addOption(quietOption);
    if (auto status = p.parse(args))
        return *status;
    BusConfig config = p.busConfig();
    if (config.databasePath.isEmpty())
        return usage(u"forward needs --db: the database whose app_events go to Redis"_s);
    if (!config.busUrl.startsWith("redis"_L1, Qt::CaseInsensitive))
        return usage(u"forward needs --bus redis://[:password@]host:port/db?stream=NAME"_s);
    Result<RedisEndpoint> endpoint = RedisEndpoint::parse(config.busUrl);
    if (!endpoint)
        return usage(endpoint.error().message);
    const QString name = p.parser().isSet(nameOption) ? p.parser().value(nameOption)
                                                     : QFileInfo(config.databasePath).absoluteFilePath();
    if (name.isEmpty() || name.size() > 1000)
        return usage(u"--name must have 1–1000 characters"_s);

    config.busUrl.clear();  // the source is the database itself
    auto source = BusHandle::open(config);
    if (!source)
        return failWith(source.error());
    RedisEventStore target(endpoint.value());
    if (Result<bool> opened = target.openAndWait(); !opened)
        return failWith(opened.error());

    const bool once = p.parser().isSet(onceOption);
    Forwarder forwarder(source.value()->store(), source.value()->notifier(), target, Forwarder::Options{name});
    bool announced = false;
    int status = ExitOk;
    Progress progress(u"forwarding"_s, u"rows"_s, !once || p.parser().isSet(quietOption));
    qint64 startedAt = -1;
    QObject::connect(&forwarder, &Forwarder::progressed, &forwarder, [&](qint64 cursor, qint64 head) {
        if (startedAt < 0)
            startedAt = cursor;
        progress.setTotal(std::max<qint64>(0, head - startedAt));
        progress.update(cursor - startedAt);
        if (announced)
            return;
        announced = true;
        if (progress.shown())
            return;  // the bar says it
        std::fprintf(stderr, "eventdesk: forwarding %s to %s from row %lld\n", qPrintable(config.databasePath),
                     qPrintable(target.location()), static_cast<long long>(cursor));
    });
    QObject::connect(&forwarder, &Forwarder::caughtUp, &forwarder, [&](qint64 cursor) {
        if (!once)
            return;
        progress.finish();
        std::fprintf(stderr, "eventdesk: forwarded %lld rows (up to row %lld)\n", static_cast<long long>(forwarder.forwarded()),
                     static_cast<long long>(cursor));
        QCoreApplication::quit();
    });
    QObject::connect(&forwarder, &Forwarder::errorOccurred, &forwarder, [&](const Error &e) {
        if (once) {
            status = fail(e.message);
            QCoreApplication::quit();
            return;
        }
        std::fprintf(stderr, "eventdesk: forward: %s (retrying)\n", qPrintable(e.message));
    });
    quitOnSignals();
    // From inside the loop: with --once, a forwarder that finishes at once quits a running loop.
    QMetaObject::invokeMethod(&forwarder, &Forwarder::start, Qt::QueuedConnection);
    QCoreApplication::exec();
    return status;
}

} // namespace eventdesk::app
