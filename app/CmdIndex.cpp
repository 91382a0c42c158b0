// index: fill EventDesk's row index for a log now, with progress, instead of
// in the background of the window or serve. Resumes where a previous build
// stopped; reads the log only.
#include "Cli.h"

#include <QElapsedTimer>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

int indexCommand(const QStringList &args)
{
    CommandParser p(u"index"_s, u"Build (or bring up to date) the row index the filters read, in EventDesk's own "
                                 "database beside the log. Progress on stderr; the log itself is only read."_s);
    const QCommandLineOption quietOption(u"quiet"_s, u"No progress bar (there is one only when stderr is a terminal)."_s);
    const QCommandLineOption rateOption(u"max-rate"_s, u"Index at most this many rows a second, to go easy on a disk "
                                                         "the engine is busy with (default: no limit)."_s, u"rows"_s);
    p.addOption(quietOption);
    p.addOption(rateOption);
    if (auto status = p.parse(args))
        return *status;
    int status = ExitOk;
    const auto rate = p.integer(u"max-rate"_s, 0, 0, 100000000, &status);
    if (!rate)
        return status;
    BusConfig config = p.busConfig(true);
    config.deskEvenIfReadOnly = true;
    if (config.busUrl.startsWith("redis"_L1))
        return usage(u"index works on an SQLite log (--db), not on a Redis stream"_s);
    auto opened = BusHandle::open(config);
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();
    DeskDatabase *desk = bus.desk();
    if (!desk)
        return fail(u"EventDesk's own database cannot be made for %1"_s.arg(bus.location()));
    const bool quiet = p.parser().isSet(quietOption);
    const qint64 before = desk->indexedTo();
    QElapsedTimer clock;
    clock.start();
    Progress progress(u"indexing"_s, u"rows"_s, quiet);
    QObject::connect(desk, &DeskDatabase::indexProgress, desk, [&](qint64 done, qint64 head) {
        progress.setTotal(head);
        progress.update(done);
    });
    desk->setIndexRate(int(*rate));
    QFuture<Result<qint64>> done = desk->indexNow();
    while (!done.isFinished())
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
    QCoreApplication::processEvents();
    progress.finish();
    const Result<qint64> r = done.result();
    if (!r)
        return fail(r.error().message);
    const double seconds = double(clock.elapsed()) / 1000.0;
    printOut(u"index of %1 is complete up to id %2 (%3 rows added in %4 s) in %5\n"_s
                 .arg(bus.location()).arg(r.value()).arg(std::max<qint64>(0, r.value() - before))
                 .arg(seconds, 0, 'f', 1).arg(desk->path()).toUtf8());
    return ExitOk;
}

} // namespace eventdesk::app
