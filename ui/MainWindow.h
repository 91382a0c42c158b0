// The DM's window: the live log with its filter bar and detail pane, the
// session panel, and the actions (trigger, replay, republish, processed).
// It lays out and connects; the models and the bus do the work.
#pragma once

#include "DeskPorts.h"
#include "EngineRecorder.h"
#include "Ports.h"

#include <QMainWindow>

#include <memory>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;
class QToolButton;
class QListWidget;
class QStackedWidget;

namespace eventdesk {

class DesktopNotifier;
class FilterBar;
class LogFilter;
class LogTransfer;
class Recordings;
class TypeFilter;

class Banner;
class DemoSession;
class DetailPane;
class EmptyState;
class MatchDelegate;
class EventLogModel;
class Projector;
class QuickActions;
class SessionPanel;
class SessionServer;
class TaskProgress;
class Metrics;
class WebhookDispatcher;

struct MainWindowDeps {
    EventStore &store;
    EventBus &bus;
    Notifier &notifier;
    DeskBook *book = nullptr;          // EventDesk's own records: challenges, audit log, display names
    LogWatch *watch = nullptr;         // the log's file: read-only, replaced, locked, row index progress
    Retention *retention = nullptr;    // prune, on whichever store the events live in
    SessionServer *server = nullptr;
    QString location;
    Projector *projector = nullptr;    // the insight panel, when projections run
    DesktopNotifier *desktop = nullptr;  // notifications; the system tray's when not given
    Metrics *metrics = nullptr;        // served at /metrics on the session port when the DM turns it on
    WebhookDispatcher *webhooks = nullptr;  // Settings → Notifications; null: none (read-only)
    LogImport *importer = nullptr;     // File → Import events; null: not here (a Redis stream)
};

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)
public:
    explicit MainWindow(MainWindowDeps deps, QWidget *parent = nullptr);
    ~MainWindow() override;

    EventLogModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    SessionPanel *sessionPanel() const { return m_session; }
    Banner *viewAsBanner() const { return m_viewAsBanner; }
    Banner *filterBanner() const { return m_filterBanner; }
    EmptyState *emptyState() const { return m_empty; }
    QuickActions *quickActions() const { return m_quick; }
    LogFilter *logFilter() const { return m_filter; }
    FilterBar *filterBar() const { return m_filterBar; }
    QComboBox *worldFilter() const;
    TypeFilter *typeFilter() const;
    QToolButton *hideProgressButton() const;
    QLineEdit *textFilter() const;
    QComboBox *timeFilter() const;
    QLabel *writesWaitingLabel() const { return m_statusLock; }
    QLabel *indexLabel() const { return m_statusIndex; }
    TaskProgress *taskProgress() const { return m_task; }
    TaskProgress *indexProgress() const { return m_indexTask; }
    // The log cannot be written here: the writing actions are off.
    bool isReadOnly() const { return m_deps.watch && m_deps.watch->isReadOnly(); }
    QList<EventKind> notifyKinds() const { return m_notifyKinds; }
    void setNotifyKinds(const QList<EventKind> &kinds);
    // Writes the rows matching the current filter (all of them, not just the
    // loaded window) as JSON lines, or CSV for a .csv path; exported() says how many.
    void exportFiltered(const QString &path);
    // File → Import events: JSON lines (the export form or bare AppEvents) into
    // an SQLite log, all or nothing, with progress and Cancel; imported() says how many.
    void importFile(const QString &path);
    void openChallenges();
    void openNotifications();
    QStringList knownWorlds() const;
    void openPrune();
    // File → Record an engine…: today's engine's messages into this log.
    void openRecord();
    EngineRecorder *startRecording(const EngineRecorder::Options &options);
    const std::vector<std::unique_ptr<EngineRecorder>> &recorders() const;
    QLabel *recordStatus() const { return m_statusRecord; }
    bool isFollowing() const;
    void setFollowing(bool follow);
    void showMessage(const QString &text);

Q_SIGNALS:
    void openDatabaseRequested(const QString &path);
    // File → New database…: an empty or absent file to become a new event log.
    void newDatabaseRequested(const QString &path);
    void exported(qint64 rows, const QString &path);
    void imported(qint64 rows);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildFilterBar();
    void buildActions();
    // The filter's query, applied now (a filter changed, or "view as" ended).
    void applyFilters();
    void onFilterChanged(const EventQuery &query);
    // The world the filter shows, or empty (all worlds, or rows without one).
    QString currentWorld() const;
    void refreshWorlds();
    void newDatabase();
    // Asks first when players are connected (act: what would end the session); true: go on.
    bool mayEndSession(const QString &act);
    void toggleDemo();
    void refreshNames();
    void refreshJobLabels();
    void nameSomething();  // display names of worlds and characters, from EventDesk's own tables
    void refreshAudit();
    void updateStatus();
    void onSelection();
    void replaySelected();
    void republishSelected();
    void openDatabase();
    void viewAs(const QString &name, const QString &role, const QString &world);
    void endViewAs(const QString &why = {});
    void clearFilters();
    void updateBanners();
    QList<const StoredEvent *> selectedEvents() const;

    MainWindowDeps m_deps;
    EventLogModel *m_model;
    QTableView *m_view;
    MatchDelegate *m_matches = nullptr;
    std::unique_ptr<DemoSession> m_demo;
    QAction *m_demoAction = nullptr;
    DetailPane *m_detail;
    SessionPanel *m_session = nullptr;
    QuickActions *m_quick = nullptr;
    QListWidget *m_audit;
    LogFilter *m_filter;
    FilterBar *m_filterBar = nullptr;
    QLineEdit *m_jump;
    QLabel *m_statusLock;
    QLabel *m_statusTotal;
    bool m_counting = false;
    bool m_totalStale = true;   // the log changed since the last total
    bool m_indexing = false;    // the row index is being built
    QToolButton *m_follow;
    QLabel *m_count;
    QLabel *m_statusDb;
    QLabel *m_statusIndex;
    TaskProgress *m_task;
    TaskProgress *m_indexTask;  // the first build of a big log's row index
    bool m_indexPaused = false;
    LogTransfer *m_transfer;
    QLabel *m_statusRate;
    QLabel *m_statusServer;
    QLabel *m_statusRecord;
    Recordings *m_recordings;
    Banner *m_viewAsBanner;
    Banner *m_filterBanner;
    EmptyState *m_empty;
    QStackedWidget *m_logStack;
    bool m_viewingAsClient = false;
    bool m_worldsSoon = false;  // a look at the world list is scheduled
    int m_topRowBefore = -1;    // the first row in view before rows came in above it
    QLabel *m_logReset;               // "the log went back in time" until dismissed
    QHash<QString, QString> m_names;  // display names by id (worlds, characters)
    QList<qint64> m_recentArrivals;  // ms timestamps of live rows, for events per minute
    DesktopNotifier *m_desktop = nullptr;
    QList<EventKind> m_notifyKinds;   // desktop notifications for these
    void notifyAbout(const QList<StoredEvent> &events);
};

} // namespace eventdesk
