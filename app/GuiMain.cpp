#include "GuiMain.h"
#include "PlainText.h"

#include "BusSetup.h"
#include "Cli.h"
#include "DeskDatabase.h"
#include "DeskPorts.h"
#include "HostedDesk.h"
#include "MainWindow.h"
#include "Settings.h"

#include <QApplication>
#include <QFileInfo>
#include <QIcon>
#include <QLoggingCategory>
#include <QMessageBox>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

// One database open in the window: the hosted desk (the bus, its
// projections, the session server, webhooks) and the window over it.
// Opening another database builds a new one.
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
        auto hosted = HostedDesk::open(config, session);
        if (!hosted)
            return hosted.error();
        std::unique_ptr<Desk> d(new Desk);
        d->m_hosted = std::move(hosted).value();
        HostedDesk &h = *d->m_hosted;
        BusHandle &bus = h.bus();
        d->m_window = std::make_unique<MainWindow>(MainWindowDeps{bus.store(), bus.bus(), bus.notifier(), bus.book(), bus.watch(),
                                                                  &bus.retention(), &h.server(), bus.location(), &h.projector(),
                                                                  nullptr, &h.metrics(), h.webhooks(), h.importer()});
        if (RedisEventStore *redis = bus.redis()) {
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
    // Torn down window first, then what it shows.
    std::unique_ptr<HostedDesk> m_hosted;
    std::unique_ptr<MainWindow> m_window;
};

} // namespace

int runGui(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setWindowIcon(QIcon(u":/eventdesk/icons/eventdesk.svg"_s));
    QApplication::setApplicationDisplayName(u"EventDesk"_s);

    // The options every command shares (Cli.cpp), declared there once; the
    // window picks its address in the Session panel, so --listen is not used here.
    CommandParser parser(QString(), u"The DM's desk for the game engine's event bus."_s);
    if (auto status = parser.parse(app.arguments()))
        return *status;
    if (!parser.common().verbose)
        QLoggingCategory::setFilterRules(u"eventdesk.*.debug=false"_s);

    const CommonOptions common = parser.common();
    SessionConfig session;
    session.joinCode = common.joinCode;
    session.dmToken = common.dmToken;
    std::unique_ptr<Desk> desk;
    QString busUrl = common.bus;
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
    if (!openDesk(common.db, parser.parser().isSet(u"create"_s)))
        return ExitFailure;
    return QApplication::exec();
}

} // namespace eventdesk::app
