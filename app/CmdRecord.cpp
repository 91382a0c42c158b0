// record: keep every message today's engine sends into the log (bus/EngineRecorder.h).
#include "Cli.h"
#include "EngineRecorder.h"
#include "Ids.h"
#include "LogFormat.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

// The engine's worlds (GET /api/worlds beside its /ws): id and name of each.
Result<QList<std::pair<QString, QString>>> engineWorlds(const QUrl &engine)
{
    QUrl api = engine;
    api.setScheme(engine.scheme() == u"wss"_s ? u"https"_s : u"http"_s);
    api.setPath(u"/api/worlds"_s);
    api.setQuery(QString());
    QNetworkAccessManager net;
    QNetworkRequest request(api);
    request.setTransferTimeout(10000);
    QNetworkReply *reply = net.get(request);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    if (reply->error() != QNetworkReply::NoError)
        return Error{ErrorCode::Unavailable, {}, u"cannot list the engine's worlds at %1: %2"_s.arg(api.toString(), reply->errorString())};
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(reply->read(8 << 20), &parseError);
    if (!doc.isArray())
        return Error{ErrorCode::Unavailable, {}, u"%1 did not answer with a list of worlds"_s.arg(api.toString())};
    QList<std::pair<QString, QString>> out;
    for (const QJsonValue &w : doc.array())
        out.append({w.toObject().value("id"_L1).toString(), w.toObject().value("name"_L1).toString()});
    return out;
}

} // namespace

int recordCommand(const QStringList &args)
{
    CommandParser p(u"record"_s,
                    u"Join a world of today's engine (which keeps no log) and keep every message it sends in "
                    "EventDesk's log, as it came: the window, tail, export, webhooks and the rest then work on it. "
                    "Joins as a spectator; never takes the DM's seat unless --as-dm. Reconnects by itself; each "
                    "stretch without a connection is a row of its own. Stop with Ctrl+C."_s);
    const QCommandLineOption engineOption(u"engine"_s, u"The engine's WebSocket, like ws://127.0.0.1:3000/ws."_s, u"url"_s);
    const QCommandLineOption worldOption(u"world"_s, u"The world: its UUID, or its name as the engine lists it."_s, u"world"_s);
    const QCommandLineOption spectatorOption(u"as-spectator"_s,
                                             u"Join as a spectator of this player character (name or UUID)."_s, u"pc"_s);
    const QCommandLineOption dmOption(u"as-dm"_s,
                                      u"Join as the DM instead. The engine gives the DM's seat to the newest DM "
                                      "connection of a user id: with your own DM's user id, their screen stops "
                                      "getting updates."_s);
    const QCommandLineOption userOption(u"user-id"_s, u"The user id to join with (default: one of the recorder's own)."_s,
                                        u"id"_s);
    const QCommandLineOption heartbeatOption(u"heartbeat"_s, u"Seconds between Heartbeats (default 15; 0: none)."_s, u"s"_s);
    for (const auto &o : {engineOption, worldOption, spectatorOption, dmOption, userOption, heartbeatOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    QCommandLineParser &parser = p.parser();
    const QUrl engine(parser.value(engineOption));
    if (!parser.isSet(engineOption) || !engine.isValid() || (engine.scheme() != u"ws"_s && engine.scheme() != u"wss"_s)
        || engine.host().isEmpty())
        return usage(u"record needs --engine ws://HOST:PORT/ws (today's engine listens on port 3000)"_s);
    if (!parser.isSet(worldOption))
        return usage(u"record needs --world: the world's UUID or name"_s);
    if (parser.isSet(dmOption) && parser.isSet(spectatorOption))
        return usage(u"choose one of --as-spectator and --as-dm"_s);
    int status = ExitOk;
    const auto heartbeat = p.integer(u"heartbeat"_s, 15, 0, 3600, &status);
    if (!heartbeat)
        return status;
    if (!p.common().verbose)
        QLoggingCategory::setFilterRules(u"eventdesk.*=false\neventdesk.record.info=true\neventdesk.record.warning=true"_s);

    EngineRecorder::Options options;
    options.engine = engine;
    options.role = parser.isSet(dmOption) ? EngineRecorder::Role::Dm : EngineRecorder::Role::Spectator;
    options.spectate = parser.value(spectatorOption).trimmed();
    options.userId = parser.value(userOption);
    options.heartbeatMs = int(*heartbeat) * 1000;
    options.worldId = parser.value(worldOption).trimmed();
    if (!ids::isUuid(options.worldId)) {
        const auto worlds = engineWorlds(engine);
        if (!worlds)
            return fail(worlds.error().message);
        QStringList names;
        QString found;
        for (const auto &[id, name] : worlds.value()) {
            names.append(name);
            if (name.compare(options.worldId, Qt::CaseInsensitive) == 0)
                found = id;
        }
        if (found.isEmpty())
            return fail(u"the engine has no world named '%1' (it has: %2)"_s.arg(options.worldId.left(80),
                                                                               names.isEmpty() ? u"none"_s : names.join(u", "_s)));
        options.worldId = found;
    }

    auto opened = BusHandle::open(p.busConfig());
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();
    EngineRecorder recorder(bus.store(), bus.notifier(), options);
    int rc = ExitOk;
    QObject::connect(&recorder, &EngineRecorder::refused, &recorder, [&rc](const QString &why) {
        note(u"the engine refused the join: %1"_s.arg(why), "error");
        rc = ExitFailure;
        QCoreApplication::quit();
    });
    QObject::connect(&recorder, &EngineRecorder::joined, &recorder, [&](const QString &name) {
        // The engine's name for the world: the log, tail and the window say it instead of the UUID.
        if (DeskBook *book = bus.book(); book && !book->isReadOnly() && !name.isEmpty())
            book->setDisplayName(u"world"_s, options.worldId, name);
        printOut(u"eventdesk: recording %1%2 from %3 into %4\n"_s
                     .arg(options.worldId, name.isEmpty() ? QString() : u" (%1)"_s.arg(name), engine.toString(), bus.location())
                     .toUtf8());
    });
    // At most a line a second: what is durable, for a person or a script.
    QElapsedTimer since;
    since.start();
    qint64 said = -1;
    const auto sayStored = [&](bool now) {
        const EngineRecorder::Stats s = recorder.stats();
        if (s.stored == said || (!now && since.elapsed() < 1000))
            return;
        said = s.stored;
        since.restart();
        printOut(u"stored %1 message(s), through id %2%3\n"_s.arg(s.stored).arg(s.lastId)
                     .arg(s.dropped ? u" (%1 dropped: the disk could not keep up)"_s.arg(s.dropped) : QString())
                     .toUtf8());
    };
    QObject::connect(&recorder, &EngineRecorder::storedUpTo, &recorder, [&] { sayStored(false); });
    QTimer tick;
    QObject::connect(&tick, &QTimer::timeout, &recorder, [&] { sayStored(false); });
    tick.start(1000);
    quitOnSignals();
    note(u"joining world %1 at %2 as %3 %4"_s.arg(options.worldId, engine.toString(),
                                                   options.role == EngineRecorder::Role::Dm ? u"the DM"_s : u"a spectator"_s,
                                                   recorder.userId()));
    bool stopped = false;
    QObject::connect(&recorder, &EngineRecorder::stopped, &recorder, [&stopped] { stopped = true; });
    recorder.start();
    QCoreApplication::exec();
    // Stopping: what was received is made durable first.
    if (!stopped) {
        QEventLoop drain;
        QObject::connect(&recorder, &EngineRecorder::stopped, &drain, &QEventLoop::quit);
        QTimer::singleShot(15000, &drain, &QEventLoop::quit);
        recorder.stop();
        if (!stopped)
            drain.exec();
    }
    sayStored(true);
    return rc;
}

} // namespace eventdesk::app
