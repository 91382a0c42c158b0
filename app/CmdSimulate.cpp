// simulate: a realistic game session through the producers (DemoSession), for
// demos, screenshots and benchmarks.
#include "Cli.h"

#include "DemoSession.h"

#include <QCoreApplication>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {


int simulateCommand(const QStringList &args)
{
    CommandParser p(u"simulate"_s, u"Play a realistic game session onto the bus: story beats, narrative triggers, "
                                   "challenge rolls per character, image generation and text suggestion jobs."_s);
    const QCommandLineOption worldOption(u"world"_s, u"The world, by name or UUID (repeatable; default Ravenmoor)."_s, u"world"_s);
    const QCommandLineOption playersOption(u"players"_s, u"Player characters per world (default 4)."_s, u"n"_s);
    const QCommandLineOption rateOption(u"rate"_s, u"Game actions per second (default 2)."_s, u"r"_s);
    const QCommandLineOption durationOption(u"duration"_s, u"How long: 30s, 5m, 1h (default 30s)."_s, u"d"_s);
    const QCommandLineOption seedOption(u"seed"_s, u"Seed for a repeatable session (default: random)."_s, u"n"_s);
    const QCommandLineOption failOption(u"failure-rate"_s, u"Share of generation/suggestion jobs that fail, 0..1 (default 0.1)."_s, u"f"_s);
    for (const auto &o : {worldOption, playersOption, rateOption, durationOption, seedOption, failOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    QCommandLineParser &parser = p.parser();
    int status = ExitOk;
    const auto players = p.integer(u"players"_s, 4, 1, 100, &status);
    const auto seed = players ? p.integer(u"seed"_s, 0, 0, 0xffffffffLL, &status) : std::nullopt;
    if (!players || !seed)
        return status;
    bool ok = true;
    const double rate = parser.isSet(rateOption) ? parser.value(rateOption).toDouble(&ok) : 2.0;
    if (!ok || rate <= 0 || rate > 10000)
        return usage(u"--rate must be a number of actions per second, 0 < rate <= 10000"_s);
    const double failureRate = parser.isSet(failOption) ? parser.value(failOption).toDouble(&ok) : 0.1;
    if (!ok || failureRate < 0 || failureRate > 1)
        return usage(u"--failure-rate must be between 0 and 1"_s);
    const auto duration = parseSpan(parser.isSet(durationOption) ? parser.value(durationOption) : u"30s"_s, u"smh", true);
    if (!duration)
        return usage(u"--duration must look like 30s, 5m or 1h"_s);
    const qint64 durationMs = *duration * 1000;
    QStringList worldNames = parser.values(worldOption);
    if (worldNames.isEmpty())
        worldNames = {u"Ravenmoor"_s};

    auto opened = BusHandle::open(p.busConfig());
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();
    DemoOptions options;
    options.worlds = worldNames;
    options.players = int(*players);
    options.actionsPerSecond = rate;
    options.durationMs = durationMs;
    options.seed = quint32(*seed);
    options.failureRate = failureRate;
    DemoSession demo(bus.bus(), bus.book(), options);
    QObject::connect(&demo, &DemoSession::finished, qApp, &QCoreApplication::quit);
    std::fprintf(stderr, "eventdesk: simulating %lld s of play in %s (%lld players, %.1f actions/s)\n",
                 qlonglong(durationMs / 1000), qPrintable(worldNames.join(u", "_s)), qlonglong(*players), rate);
    demo.start();
    QCoreApplication::exec();
    std::fprintf(stderr, "eventdesk: %lld actions played%s\n", qlonglong(demo.actions()),
                 demo.failures() ? qPrintable(u", %1 publishes failed"_s.arg(demo.failures())) : "");
    return demo.failures() ? ExitFailure : ExitOk;
}

} // namespace eventdesk::app
