#include "GuiMain.h"
#include "PlainText.h"

#include "BusSetup.h"
#include "Cli.h"
#include "DeskDatabase.h"
#include "DeskPorts.h"
#include "MainWindow.h"
#include "Settings.h"
#include "ImportFile.h"
#include "Metrics.h"
#include "Projector.h"
#include "Webhooks.h"
#include "SessionServer.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QLoggingCategory>
#include <QMessageBox>
#include <QProcessEnvironment>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

// One database open in the window: the bus, its projections, the session
// server and the window over them. Opening another database builds a new one.
class Desk
{
public:
    // create: the DM asked for a new database (File → New database…).
    static Result<std::unique_ptr<Desk>> open(const QString &path, const QString &busUrl, const SessionConfig &session,
                                             bool create = false)
    {
        BusConfig config;
        config.databasePath = path;
        config.busUrl = busUrl;
        config.createInExisting = create;
        config.readOnlyIfUnwritable = true;  // a database the DM may not write is still shown
        config.index = true;
        auto bus = LocalBus::open(config);
        if (!bus)
            return bus.error();
        std::unique_ptr<Desk> d(new Desk);
        d->m_bus = std::move(bus).value();
        d->m_projector = std::make_unique<Projector>(d->m_bus->store(), d->m_bus->notifier(), *d->m_bus->desk());
        d->m_projector->start();
        // Publishes through the session are timed for /metrics (served when the DM turns it on).
        d->m_metrics = std::make_unique<Metrics>(d->m_bus->store(), d->m_bus->notifier());
        d->m_measured = std::make_unique<MeasuredBus>(d->m_bus->bus(), *d->m_metrics);
        d->m_server = std::make_unique<SessionServer>(d->m_bus->store(), *d->m_measured, d->m_bus->notifier(),
                                                      d->m_bus->book(), SessionServer::withStoredJoinCode(session, d->m_bus->book()));
        d->m_metrics->setSession(d->m_server.get());
        if (!d->m_bus->redis() && !d->m_bus->sqlite()->options().readOnly)
            d->m_importer = std::make_unique<FileImporter>(*d->m_bus->sqlite(), d->m_bus->notifier());
        d->m_metrics->watchSubscriber(u"projector"_s, [p = d->m_projector.get()] { return p->cursor(); });
        d->m_metrics->watchSubscriber(u"session"_s, [s = d->m_server.get()] { return s->liveCursor(); });
        // The DM's webhooks are delivered while the window is open (and by serve).
        if (DeskDatabase *desk = d->m_bus->desk(); desk && !desk->isReadOnly()) {
            d->m_webhooks = std::make_unique<WebhookDispatcher>(d->m_bus->store(), d->m_bus->notifier(), *desk,
                                                                WebhookDispatcher::Options{});
            d->m_webhooks->start();
            d->m_metrics->setWebhooks(d->m_webhooks.get());
        }
        d->m_window = std::make_unique<MainWindow>(MainWindowDeps{d->m_bus->store(), d->m_bus->bus(), d->m_bus->notifier(),
                                                                  d->m_bus->book(), d->m_bus->watch(), &d->m_bus->retention(),
                                                                  d->m_server.get(), d->m_bus->location(),
                                                                  d->m_projector.get(), nullptr, d->m_metrics.get(),
                                                                  d->m_webhooks.get(), d->m_importer.get()});
        if (RedisEventStore *redis = d->m_bus->redis()) {
            // Losing Redis is shown, not a dialog: publishes fail until it is back.
            QObject::connect(redis, &RedisEventStore::connectionChanged, d->m_window.get(),
                             [w = d->m_window.get()](bool up, const QString &reason) {
                                 w->showMessage(up ? QObject::tr("Redis is back; the log catches up.")
                                                   : QObject::tr("Redis connection lost, reconnecting: %1").arg(reason));
                             });
        }
        return d;
    }
    MainWindow *window() const { return m_window.get(); }

private:
    Desk() = default;
    // Torn down window first, then the server, projections, and the bus last.
    std::unique_ptr<LocalBus> m_bus;
    std::unique_ptr<Projector> m_projector;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<MeasuredBus> m_measured;
    std::unique_ptr<WebhookDispatcher> m_webhooks;
    std::unique_ptr<FileImporter> m_importer;
    std::unique_ptr<SessionServer> m_server;
    std::unique_ptr<MainWindow> m_window;
};

} // namespace

int runGui(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setWindowIcon(QIcon(u":/eventdesk/icons/eventdesk.svg"_s));
    QApplication::setApplicationDisplayName(u"EventDesk"_s);

    QCommandLineParser parser;
    parser.setApplicationDescription(u"The DM's desk for the game engine's event bus."_s);
    const QCommandLineOption db(u"db"_s, u"Open this database."_s, u"path"_s);
    const QCommandLineOption bus(u"bus"_s, u"The bus: sqlite (default) or redis://[:password@]host:port/db?stream=NAME."_s, u"url"_s);
    const QCommandLineOption joinCode(u"join-code"_s, u"The players' join code."_s, u"code"_s);
    const QCommandLineOption dmToken(u"dm-token"_s, u"The DM token (or EVENTDESK_DM_TOKEN)."_s, u"token"_s);
    const QCommandLineOption listen(u"listen"_s, u"Ignored by the window: pick the address in the Session panel."_s, u"host:port"_s);
    const QCommandLineOption verbose(u"verbose"_s, u"Log what the bus does."_s);
    parser.addOptions({db, bus, joinCode, dmToken, listen, verbose});
    if (!parser.parse(app.arguments()))
        return usage(parser.errorText());
    if (!parser.isSet(verbose))
        QLoggingCategory::setFilterRules(u"eventdesk.*.debug=false"_s);

    SessionConfig session;
    session.joinCode = parser.value(joinCode);
    session.dmToken = parser.isSet(dmToken) ? parser.value(dmToken)
                                            : QProcessEnvironment::systemEnvironment().value(u"EVENTDESK_DM_TOKEN"_s);
    std::unique_ptr<Desk> desk;
    QString busUrl = parser.value(bus);
    std::function<bool(const QString &, bool)> openDesk = [&](const QString &path, bool create) -> bool {
        auto opened = Desk::open(path, busUrl, session, create);
        if (!opened && opened.error().field == u"desk"_s && busUrl.isEmpty()) {
            // EventDesk's own database beside the log is damaged or newer: the
            // log is fine, so offer to keep that file aside and begin a new one.
            const QString deskPath =
                DeskDatabase::pathFor(QFileInfo(path.isEmpty() ? defaultDatabasePath() : path).absoluteFilePath());
            if (!QFileInfo::exists(deskPath)
                || !plain::confirmAct(desk ? desk->window() : nullptr, QObject::tr("EventDesk"),
                                      QObject::tr("%1\n\nThe event log itself is fine. EventDesk can keep this file aside "
                                                  "(renamed, nothing deleted) and start a fresh one: the log shows at "
                                                  "once, and challenges, display names, notes and webhooks start empty.")
                                          .arg(opened.error().message),
                                      QObject::tr("Move it aside and start fresh")))
                return false;
            const Result<QString> aside = DeskDatabase::moveAside(deskPath);
            if (!aside) {
                plain::critical(desk ? desk->window() : nullptr, QObject::tr("EventDesk"), aside.error().message);
                return false;
            }
            opened = Desk::open(path, busUrl, session, create);
        }
        if (!opened) {
            plain::critical(desk ? desk->window() : nullptr, QObject::tr("EventDesk"),
                            QObject::tr("Cannot open the database.\n\n%1").arg(opened.error().message));
            return false;
        }
        desk = std::move(opened).value();  // the previous one closes
        Settings().addRecentDatabase(QFileInfo(path.isEmpty() ? defaultDatabasePath() : path).absoluteFilePath());
        QObject::connect(desk->window(), &MainWindow::openDatabaseRequested, desk->window(), [&](const QString &next) {
            // Rebuild after this event: the window that asked is replaced. A
            // database file chosen in the window is inspected on its own.
            QMetaObject::invokeMethod(qApp, [&, next] {
                const QString previous = std::exchange(busUrl, QString());
                if (!openDesk(next, false))
                    busUrl = previous;
            }, Qt::QueuedConnection);
        });
        QObject::connect(desk->window(), &MainWindow::newDatabaseRequested, desk->window(), [&](const QString &next) {
            QMetaObject::invokeMethod(qApp, [&, next] {
                const QString previous = std::exchange(busUrl, QString());
                if (!openDesk(next, true))
                    busUrl = previous;
            }, Qt::QueuedConnection);
        });
        desk->window()->show();
        return true;
    };
    if (!openDesk(parser.value(db), false))
        return ExitFailure;
    return QApplication::exec();
}

} // namespace eventdesk::app
