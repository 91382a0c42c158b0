// serve, replay.
#include "Cli.h"

#include "DeskDatabase.h"
#include "LogFormat.h"
#include "HostedDesk.h"
#include "Metrics.h"
#include "SessionServer.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTimer>
#include <QWebSocket>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

bool parseListen(const QString &text, QHostAddress &address, quint16 &port)
{
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon <= 0)
        return false;
    QString host = text.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    if (host == u"localhost"_s)
        host = u"127.0.0.1"_s;
    bool ok = false;
    const uint p = text.mid(colon + 1).toUInt(&ok);
    if (!ok || p > 65535 || !address.setAddress(host))
        return false;
    port = quint16(p);
    return true;
}

} // namespace

int serveCommand(const QStringList &args)
{
    CommandParser p(u"serve"_s, u"Host the bus and the session server without a window. Prints "
                                "'eventdesk: listening on ws://HOST:PORT' once it accepts players."_s);
    const QCommandLineOption originOption(u"allow-origin"_s, u"Also accept WebSocket clients from this Origin (repeatable)."_s, u"origin"_s);
    const QCommandLineOption maxClientsOption(u"max-clients"_s, u"At most this many clients (default 256)."_s, u"n"_s);
    const QCommandLineOption certOption(u"tls-cert"_s, u"PEM certificate: serve wss:// (with --tls-key)."_s, u"file"_s);
    const QCommandLineOption keyOption(u"tls-key"_s, u"PEM private key for --tls-cert."_s, u"file"_s);
    const QCommandLineOption seedOption(u"seed"_s, u"Seed the dice (for tests and demos)."_s, u"n"_s);
    const QCommandLineOption pendingOption(u"max-pending"_s,
                                           u"At most this many connections waiting to join, in all (default 64)."_s, u"n"_s);
    const QCommandLineOption pendingPerAddressOption(
        u"max-pending-per-address"_s, u"At most this many connections waiting to join from one address (default 16)."_s, u"n"_s);
    const QCommandLineOption logFormatOption(
        u"log-format"_s, u"text (default) or json: one JSON object per line on stderr, for a service manager."_s, u"format"_s);
    const QCommandLineOption metricsOption(u"metrics"_s, u"Serve Prometheus metrics at /metrics on the session port."_s);
    const QCommandLineOption metricsListenOption(
        u"metrics-listen"_s, u"Serve Prometheus metrics at http://HOST:PORT/metrics, a port of their own."_s, u"host:port"_s);
    const QCommandLineOption worldOption(
        u"world"_s, u"Open this world for players before its first event (repeatable); worlds in the log are open already."_s,
        u"world"_s);
    for (const auto &o : {originOption, maxClientsOption, certOption, keyOption, seedOption, pendingOption, pendingPerAddressOption,
                          metricsOption, metricsListenOption, logFormatOption, worldOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    const CommonOptions common = p.common();
    if (const QString format = p.parser().value(logFormatOption); format == u"json"_s)
        setLogFormat(LogFormat::Json);
    else if (!format.isEmpty() && format != u"text"_s)
        return usage(u"--log-format must be text or json, not '%1'"_s.arg(format.left(40)));
    if (!common.verbose)  // a host's log is who joined and who was refused; the rest is for --verbose
        QLoggingCategory::setFilterRules(u"eventdesk.*=false\neventdesk.session.info=true\neventdesk.session.warning=true"_s);

    SessionConfig config;
    if (!common.listen.isEmpty() && !parseListen(common.listen, config.address, config.port))
        return usage(u"--listen must be HOST:PORT (like 127.0.0.1:7878 or 192.168.1.20:7878), not '%1'"_s.arg(common.listen.left(60)));
    config.joinCode = common.joinCode;
    config.dmToken = common.dmToken;
    if (!config.joinCode.isEmpty() && config.joinCode.size() < 6)
        return usage(u"--join-code must have at least 6 characters"_s);
    if (!config.dmToken.isEmpty() && config.dmToken.size() < 16)
        return usage(u"--dm-token must have at least 16 characters"_s);
    config.allowedOrigins = p.parser().values(originOption);
    config.tlsCertificate = p.parser().value(certOption);
    config.tlsKey = p.parser().value(keyOption);
    if (config.tlsCertificate.isEmpty() != config.tlsKey.isEmpty())
        return usage(u"--tls-cert and --tls-key go together"_s);
    int status = ExitOk;
    const auto maxClients = p.integer(u"max-clients"_s, 256, 1, 100000, &status);
    const auto seed = maxClients ? p.integer(u"seed"_s, 0, 0, 0xffffffffLL, &status) : std::nullopt;
    const auto maxPending = seed ? p.integer(u"max-pending"_s, 64, 1, 100000, &status) : std::nullopt;
    const auto maxPendingPerAddress = maxPending ? p.integer(u"max-pending-per-address"_s, 16, 1, 100000, &status) : std::nullopt;
    if (!maxClients || !seed || !maxPending || !maxPendingPerAddress)
        return status;
    config.maxClients = int(*maxClients);
    config.transport.maxPending = int(*maxPending);
    config.transport.maxPendingPerAddress = int(*maxPendingPerAddress);
    config.seed = quint32(*seed);
    QHostAddress metricsAddress;
    quint16 metricsPortNumber = 0;
    const QString metricsListen = p.parser().value(metricsListenOption);
    if (!metricsListen.isEmpty() && !parseListen(metricsListen, metricsAddress, metricsPortNumber))
        return usage(u"--metrics-listen must be HOST:PORT (like 127.0.0.1:9464), not '%1'"_s.arg(metricsListen.left(60)));
    const bool metricsWanted = p.parser().isSet(metricsOption) || !metricsListen.isEmpty();
    if (!metricsListen.isEmpty() && !metricsAddress.isLoopback())
        note(u"--metrics-listen %1 is reachable from other machines: the metrics name your worlds and event counts; "
             "use 127.0.0.1 unless a firewall keeps strangers out"_s.arg(metricsListen), "warning");

    BusConfig busConfig = p.busConfig();
    busConfig.index = true;  // the row index follows the log while serving
    // Metrics, when asked for: publishes through the session are timed, the
    // log's events counted, the projector's lag watched. Display names
    // (character_name in ChallengeResolved) and webhook rules are read again
    // every 10 s, as the DM names things and adds rules.
    auto hosted = HostedDesk::open(busConfig, config, HostedDeskOptions{metricsWanted, 10000});
    if (!hosted)
        return failWith(hosted.error());
    HostedDesk &desk = *hosted.value();
    BusHandle &bus = desk.bus();
    SessionServer &server = desk.server();
    Metrics &metrics = desk.metrics();
    for (const QString &world : p.parser().values(worldOption))
        server.openWorld(world);
    session::Transport metricsTransport(session::TransportLimits{});
    if (metricsWanted) {
        metrics.start();
        if (p.parser().isSet(metricsOption))
            metrics.serveOnSessionPort(server, true);
        if (!metricsListen.isEmpty()) {
            metricsTransport.setHttpHandler([&metrics](const session::HttpRequest &r) { return metrics.answer(r); });
            metricsTransport.setOriginCheck([](const QString &, const QString &) { return false; });  // no WebSocket here
            if (Result<bool> r = metricsTransport.listen(metricsAddress, metricsPortNumber); !r)
                return fail(u"cannot serve metrics on %1: %2"_s.arg(metricsListen, r.error().message));
        }
    }
    if (Result<bool> listening = server.listen(); !listening)
        return fail(listening.error().message);
    if (LogWatch *file = bus.logFile())
        QObject::connect(file, &LogWatch::fileReplaced, &server, [&bus] {
            note(u"the database file %1 was replaced by another file; this session still serves the old one: "
                 "restart serve to follow the new one"_s.arg(bus.location()), "warning");
        });
    quitOnSignals();
    // Secrets given on the command line or in the environment are never echoed.
    // One serve made up is shown to the person at the terminal (there is no other
    // way to learn it); a service's log (json) never holds one, and says where to
    // set them instead.
    note(u"database %1"_s.arg(bus.location()));
    const bool toLog = logFormat() == LogFormat::Json;
    const bool showCodes = !common.joinCode.isEmpty() || !toLog;
    if (!showCodes)
        note(u"the worlds' join codes are not logged: set EVENTDESK_JOIN_CODE or --join-code, and each world's link is "
             "printed on stdout"_s, "warning");
    if (common.dmToken.isEmpty())
        note(toLog ? u"DM token made up for this run and not logged: set EVENTDESK_DM_TOKEN or --dm-token"_s
                   : u"DM token %1"_s.arg(server.dmToken()), toLog ? "warning" : "info");
    const QString web = server.url().scheme() == u"wss"_s ? u"https"_s : u"http"_s;
    if (metricsTransport.isListening())
        note(u"metrics on http://%1:%2/metrics"_s.arg(metricsAddress.toString()).arg(metricsTransport.port()));
    else if (metricsWanted)
        note(u"metrics on %1://%2:%3/metrics"_s.arg(web, server.url().host()).arg(server.port()));
    printOut(u"eventdesk: listening on %1\n"_s.arg(server.url().toString()).toUtf8());
    // One line per world players can join, now and as new worlds appear: each
    // world's link holds its own code, which opens that world only.
    const auto printJoin = [&server, showCodes](const QString &world) {
        QUrl link = server.joinLink(world);
        if (!showCodes)
            link.setQuery(u"world="_s + QString::fromLatin1(QUrl::toPercentEncoding(world)));
        printOut(u"join: %1\n"_s.arg(link.toString(QUrl::FullyEncoded)).toUtf8());
    };
    QStringList worlds = server.knownWorlds();
    worlds.sort();
    for (const QString &world : worlds)
        printJoin(world);
    QObject::connect(&server, &SessionServer::worldAdded, &server, printJoin);
    return QCoreApplication::exec();  // the hosted desk closes the session as it goes
}

int replayCommand(const QStringList &args)
{
    CommandParser p(u"replay"_s, u"Ask a running EventDesk session to re-send an id range to its players, as the DM."_s);
    const QCommandLineOption fromOption(u"from-id"_s, u"First event id."_s, u"id"_s);
    const QCommandLineOption toOption(u"to-id"_s, u"Last event id (default: the first)."_s, u"id"_s);
    const QCommandLineOption worldOption(u"world"_s, u"Only this world's events."_s, u"world"_s);
    const QCommandLineOption nameOption(u"name"_s, u"Your name in the audit log (default: eventdesk replay)."_s, u"name"_s);
    const QCommandLineOption timeoutOption(u"timeout"_s, u"Seconds to wait for the server (default 10)."_s, u"s"_s);
    for (const auto &o : {fromOption, toOption, worldOption, nameOption, timeoutOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    const CommonOptions common = p.common();
    if (!p.parser().isSet(fromOption))
        return usage(u"replay needs --from-id"_s);
    int status = ExitOk;
    const auto from = p.integer(u"from-id"_s, 1, 1, std::numeric_limits<qint64>::max(), &status);
    const auto to = from ? p.integer(u"to-id"_s, *from, *from, std::numeric_limits<qint64>::max(), &status) : std::nullopt;
    const auto timeout = to ? p.integer(u"timeout"_s, 10, 1, 3600, &status) : std::nullopt;
    if (!from || !to || !timeout)
        return status;
    const qint64 fromId = *from, toId = *to;
    const int timeoutSeconds = int(*timeout);
    if (common.dmToken.isEmpty())
        return usage(u"replay needs the DM token: --dm-token or EVENTDESK_DM_TOKEN"_s);
    QHostAddress address(QHostAddress::LocalHost);
    quint16 port = 7878;
    if (!common.listen.isEmpty() && !parseListen(common.listen, address, port))
        return usage(u"--listen must be HOST:PORT of the running session"_s);

    QWebSocket ws;
    ws.setMaxAllowedIncomingMessageSize(8 * 1024 * 1024);
    int rc = ExitFailure;
    QString problem = u"no answer from ws://%1:%2 within %3 s"_s.arg(address.toString()).arg(port).arg(timeoutSeconds);
    const QString world = p.parser().value(worldOption);
    const auto sendJson = [&](const QJsonObject &o) { ws.sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact))); };
    QObject::connect(&ws, &QWebSocket::connected, &ws, [&] {
        sendJson({{u"type"_s, u"Join"_s}, {u"role"_s, u"dm"_s}, {u"world_id"_s, world.isEmpty() ? u"*"_s : world},
                  {u"name"_s, p.parser().isSet(nameOption) ? p.parser().value(nameOption) : u"eventdesk replay"_s},
                  {u"dm_token"_s, common.dmToken}});
    });
    QObject::connect(&ws, &QWebSocket::textMessageReceived, &ws, [&](const QString &text) {
        const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = o.value(u"type"_s).toString();
        if (type == u"Joined"_s) {
            QJsonObject replay{{u"type"_s, u"Replay"_s}, {u"from_seq"_s, fromId}, {u"to_seq"_s, toId}};
            if (!world.isEmpty())
                replay.insert(u"world_id"_s, world);
            sendJson(replay);
        } else if (type == u"Replayed"_s) {
            printOut(u"replayed %1 events (%2 messages) with ids %3–%4\n"_s.arg(o.value(u"events"_s).toInteger())
                         .arg(o.value(u"messages"_s).toInteger()).arg(fromId).arg(toId).toUtf8());
            rc = ExitOk;
            ws.close();
            QCoreApplication::quit();
        } else if (type == u"Error"_s) {
            problem = u"the session refused: %1 (%2)"_s.arg(o.value(u"message"_s).toString(), o.value(u"code"_s).toString());
            ws.close();
            QCoreApplication::quit();
        }
    });
    QObject::connect(&ws, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), &ws, [&](QAbstractSocket::SocketError) {
        problem = u"cannot reach ws://%1:%2: %3"_s.arg(address.toString()).arg(port).arg(ws.errorString());
        QCoreApplication::quit();
    });
    QTimer::singleShot(int(timeoutSeconds * 1000), QCoreApplication::instance(), &QCoreApplication::quit);
    QUrl url;
    url.setScheme(u"ws"_s);
    url.setHost(address.toString());
    url.setPort(port);
    ws.open(url);
    QCoreApplication::exec();
    if (rc != ExitOk)
        return fail(problem);
    return rc;
}

} // namespace eventdesk::app
