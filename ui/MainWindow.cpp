#include "MainWindow.h"
#include "FilterBar.h"
#include "LogFilter.h"
#include "LogTransfer.h"
#include "Recordings.h"
#include "Settings.h"
#include "EngineMessages.h"
#include "PlainText.h"

#include "ChallengesDialog.h"
#include "Banners.h"
#include "DemoSession.h"
#include "DesktopNotifier.h"
#include "DetailPane.h"
#include "EventCodec.h"
#include "EventLogModel.h"
#include "Ids.h"
#include "InsightPanel.h"
#include "MatchDelegate.h"
#include "UiLog.h"
#include "Projector.h"
#include "PruneDialog.h"
#include "QuickActions.h"
#include "RowFormat.h"
#include "SessionPanel.h"
#include "TaskProgress.h"
#include "Webhooks.h"
#include "SessionServer.h"
#include "Timestamp.h"
#include "TriggerDialog.h"
#include "TypeFilter.h"

#include <QCloseEvent>
#include <QEventLoop>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSaveFile>
#include <QScrollBar>
#include <QScreen>
#include <QPushButton>
#include <QShortcut>
#include <QStackedWidget>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>

using namespace Qt::StringLiterals;

namespace eventdesk {

MainWindow::MainWindow(MainWindowDeps deps, QWidget *parent)
    : QMainWindow(parent)
    , m_deps(deps)
    , m_model(new EventLogModel(deps.store, deps.notifier, this))
    , m_view(new QTableView(this))
    , m_detail(new DetailPane(this))
    , m_audit(new QListWidget(this))
    , m_filter(new LogFilter(this))
    , m_jump(new QLineEdit(this))
    , m_statusLock(plain::label(new QLabel(this)))
    , m_statusTotal(new QLabel(this))
    , m_follow(new QToolButton(this))
    , m_count(new QLabel(this))
    , m_statusDb(plain::label(new QLabel(this)))
    , m_statusIndex(plain::label(new QLabel(this)))
    , m_task(new TaskProgress(this))
    , m_indexTask(new TaskProgress(this))
    , m_statusRate(new QLabel(this))
    , m_statusServer(plain::label(new QLabel(this)))
    , m_statusRecord(plain::label(new QLabel(this)))
    , m_viewAsBanner(new Banner(Banner::Tone::Notice, tr("Exit"), this))
    , m_filterBanner(new Banner(Banner::Tone::Neutral, tr("Clear filters"), this))
    , m_empty(new EmptyState(this))
    , m_logStack(new QStackedWidget(this))
    , m_logReset(new QLabel(this))
{
    m_recordings = new Recordings(deps.store, deps.notifier, m_statusRecord, this);
    connect(m_recordings, &Recordings::message, this, &MainWindow::showMessage);
    connect(m_recordings, &Recordings::worldNamed, this, [this](const QString &id, const QString &name) {
        // The engine's name for the world, so the log says it instead of its UUID.
        if (m_deps.book && !m_deps.book->isReadOnly() && m_names.value(id) != name)
            m_deps.book->setDisplayName(u"world"_s, id, name).then(this, [this](const Result<bool> &) { refreshNames(); });
    });
    m_transfer = new LogTransfer(deps.store, deps.importer, m_task, this);
    connect(m_transfer, &LogTransfer::message, this, &MainWindow::showMessage);
    connect(m_transfer, &LogTransfer::exported, this, &MainWindow::exported);
    connect(m_transfer, &LogTransfer::imported, this, &MainWindow::imported);
    const bool readOnly = deps.watch && deps.watch->isReadOnly();
    setWindowTitle(readOnly ? tr("EventDesk — %1 (read-only)").arg(QFileInfo(deps.location).fileName())
                            : tr("EventDesk — %1").arg(QFileInfo(deps.location).fileName()));
    setWindowIcon(QIcon(u":/eventdesk/icons/eventdesk.svg"_s));

    m_view->setModel(m_model);
    m_detail->setModel(m_model);
    m_matches = new MatchDelegate(m_view);
    m_view->setItemDelegateForColumn(EventLogModel::SummaryColumn, m_matches);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->horizontalHeader()->setSectionResizeMode(EventLogModel::SummaryColumn, QHeaderView::Stretch);
    // Narrow columns sized by the font; "What happened" takes the rest.
    const QFontMetrics metrics = m_view->fontMetrics();
    m_view->setColumnWidth(EventLogModel::IdColumn, metrics.horizontalAdvance(u"99,999,999"_s) + 12);
    m_view->setColumnWidth(EventLogModel::TimeColumn, metrics.horizontalAdvance(u"2026-11-27 22:16"_s) + 12);
    m_view->setColumnWidth(EventLogModel::TypeColumn, metrics.horizontalAdvance(u"GenerationBatchCompleted"_s) + 36);
    m_view->setColumnWidth(EventLogModel::WorldColumn, metrics.horizontalAdvance(u"Sunken Isles"_s) + 16);
    m_view->setColumnWidth(EventLogModel::ProcessedColumn, metrics.horizontalAdvance(u"✓"_s) + 20);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    m_viewAsBanner->setVisible(false);
    m_viewAsBanner->button()->setToolTip(tr("Back to the whole log (Esc)"));
    connect(m_viewAsBanner, &Banner::buttonClicked, this, [this] { endViewAs(); });
    auto *escape = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    connect(escape, &QShortcut::activated, this, [this] {
        if (m_viewingAsClient)
            endViewAs();
    });
    topLayout->addWidget(m_viewAsBanner);
    m_filterBanner->setVisible(false);
    connect(m_filterBanner, &Banner::buttonClicked, this, &MainWindow::clearFilters);
    topLayout->addWidget(m_filterBanner);
    m_logReset->setVisible(false);
    m_logReset->setWordWrap(true);
    m_logReset->setTextFormat(Qt::RichText);
    m_logReset->setStyleSheet(u"background:#f8d7da;color:#721c24;padding:6px"_s);
    connect(m_logReset, &QLabel::linkActivated, this, [this](const QString &link) {
        m_logReset->hide();
        if (link == u"#reopen"_s && mayEndSession(tr("Reopen the database")))
            Q_EMIT openDatabaseRequested(m_deps.location);
    });
    if (m_deps.book && !m_deps.book->readOnlyReason().isEmpty()) {
        // EventDesk's own database is a newer EventDesk's: shown, never rewritten.
        m_logReset->setText(tr("<b>Challenges, names and webhooks are read-only here.</b> %1 <a href=\"#dismiss\">Dismiss</a>")
                                .arg(plain::html(m_deps.book->readOnlyReason())));
        m_logReset->setVisible(true);
    }
    if (m_deps.watch) {
        connect(m_deps.watch, &LogWatch::fileReplaced, this, [this] {
            m_logReset->setText(tr("<b>The database file was replaced on disk</b> by another program. What you see "
                                   "is the old file. <a href=\"#reopen\">Reopen it</a> to follow the new one, or "
                                   "<a href=\"#dismiss\">dismiss</a>."));
            m_logReset->setVisible(true);
        });
    }
    connect(m_model, &EventLogModel::logWentBack, this, [this](qint64 was, qint64 head) {
        m_logReset->setText(tr("<b>The event log went back in time.</b> Its newest event is now %1, but %2 had "
                               "been shown: the database was replaced or the Redis stream was reset. The log "
                               "below is the new one. <a href=\"#dismiss\">Dismiss</a>")
                                .arg(QLocale().toString(head), QLocale().toString(was)));
        m_logReset->setVisible(true);
    });
    topLayout->addWidget(m_logReset);
    m_logStack->addWidget(m_view);
    m_logStack->addWidget(m_empty);
    connect(m_empty, &EmptyState::linkActivated, this, [this](const QString &link) {
        if (link == u"#clear"_s)
            clearFilters();
        else if (link == u"#open"_s)
            openDatabase();
        else if (link == u"#host"_s && m_session)
            m_session->startHosting();
        else if (link == u"#exit-view"_s)
            endViewAs();
        else if (link == u"#demo"_s && !isReadOnly())
            toggleDemo();
    });
    connect(m_model, &EventLogModel::loaded, this, &MainWindow::updateBanners);
    connect(m_model, &QAbstractItemModel::modelReset, this, &MainWindow::updateBanners);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateBanners);
    topLayout->addWidget(m_logStack);
    splitter->addWidget(top);
    splitter->addWidget(m_detail);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    setCentralWidget(splitter);

    buildFilterBar();
    buildActions();

    if (deps.server) {
        m_session = new SessionPanel(*deps.server, this);
        auto *dock = new QDockWidget(tr("Session"), this);
        dock->setObjectName(u"sessionDock"_s);
        dock->setWidget(m_session);
        addDockWidget(Qt::RightDockWidgetArea, dock);
        connect(m_session, &SessionPanel::message, this, &MainWindow::showMessage);
        connect(m_session, &SessionPanel::hostingChanged, this, &MainWindow::updateStatus);
        connect(m_session, &SessionPanel::viewAs, this, &MainWindow::viewAs);
        connect(deps.server, &SessionServer::clientsChanged, this, &MainWindow::updateStatus);
    }
    auto *auditDock = new QDockWidget(tr("Audit log"), this);
    auditDock->setObjectName(u"auditDock"_s);
    auditDock->setWidget(m_audit);
    addDockWidget(Qt::RightDockWidgetArea, auditDock);
    if (deps.projector) {
        auto *insightDock = new QDockWidget(tr("Insight"), this);
        insightDock->setObjectName(u"insightDock"_s);
        insightDock->setWidget(new InsightPanel(*deps.projector, deps.store, this));
        addDockWidget(Qt::RightDockWidgetArea, insightDock);
        tabifyDockWidget(auditDock, insightDock);
        insightDock->raise();
    }
    // View: every dock and bar can be brought back from here.
    {
        auto *viewMenu = new QMenu(tr("&View"), this);
        for (QDockWidget *dock : findChildren<QDockWidget *>())
            viewMenu->addAction(dock->toggleViewAction());
        viewMenu->addSeparator();
        for (QToolBar *bar : findChildren<QToolBar *>())
            viewMenu->addAction(bar->toggleViewAction());
        QAction *before = nullptr;
        for (QAction *a : menuBar()->actions())
            if (a->menu() && a->menu()->objectName() == u"settingsMenu"_s)
                before = a;
        menuBar()->insertMenu(before, viewMenu);
    }
    // Desktop notifications for what the DM must not miss (failed jobs by default).
    {
        m_notifyKinds = Settings().notifyKinds();
    }
    m_desktop = m_deps.desktop ? m_deps.desktop : makeTrayNotifier(windowIcon(), this);

    statusBar()->addWidget(m_statusDb, 1);
    statusBar()->addPermanentWidget(m_statusLock);
    statusBar()->addPermanentWidget(m_statusTotal);
    statusBar()->addPermanentWidget(m_statusRate);
    m_statusLock->setVisible(false);
    m_statusLock->setStyleSheet(u"color:#9a3412;font-weight:bold"_s);
    m_statusLock->setText(tr("Database locked by another program — writes are waiting"));
    if (deps.watch) {
        // Another process holding the write lock: say so, keep painting, no dialog.
        connect(deps.watch, &LogWatch::writesWaiting, this, [this](bool waiting) {
            m_statusLock->setVisible(waiting);
        });
    }
    statusBar()->addPermanentWidget(m_statusServer);
    statusBar()->addPermanentWidget(m_statusRecord);
    m_statusDb->setText(readOnly ? tr("Database: %1 — read-only").arg(deps.location) : tr("Database: %1").arg(deps.location));
    statusBar()->addPermanentWidget(m_statusIndex);
    statusBar()->addPermanentWidget(m_task);
    statusBar()->addPermanentWidget(m_indexTask);
    m_statusIndex->setVisible(false);
    if (deps.watch) {
        // The row index the filters read, built in the background on first open.
        // A big one (the first open of an engine's long log) shows a bar with
        // Cancel: the build stops for now, the filters work more slowly, and
        // it resumes the next time the database is opened.
        connect(m_indexTask, &TaskProgress::cancelRequested, this, [this] {
            m_indexPaused = true;
            m_deps.watch->pauseIndexing();
            m_indexTask->finish();
            m_statusIndex->setVisible(true);
            m_statusIndex->setText(tr("Index paused"));
            m_statusIndex->setToolTip(plain::toolTip(tr("The filters work without their index, more slowly. The index build "
                                                         "resumes the next time this database is opened.")));
            showMessage(tr("Index build paused: the filters are slower until it resumes, at the next open"));
        });
        connect(deps.watch, &LogWatch::indexProgress, this, [this](qint64 done, qint64 head) {
            constexpr qint64 BigBuild = 100000;
            const bool building = head > 0 && done < head && !m_indexPaused;
            if (building && !m_indexTask->isRunning() && head - done >= BigBuild)
                m_indexTask->begin(tr("Indexing the log"), head);
            if (m_indexTask->isRunning()) {
                m_indexTask->update(done);
                if (!building)
                    m_indexTask->finish();
            }
            if (m_indexPaused)
                return;
            m_statusIndex->setVisible(building && !m_indexTask->isRunning());
            if (building) {
                m_statusIndex->setText(tr("Indexing %1 %").arg(int(done * 100 / head)));
                m_statusIndex->setToolTip(plain::toolTip(tr("Building the index the filters use: %L1 of %L2 events. Filters work "
                                                             "meanwhile, more slowly.").arg(done).arg(head)));
            } else if (m_indexing) {
                refreshWorlds();  // the whole log's worlds are known now
            }
            m_indexing = building;
        });
    }
    m_detail->setWritable(!readOnly);

    connect(&deps.notifier, &Notifier::eventsAvailable, this, [this] { m_totalStale = true; });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::onSelection);
    connect(m_detail, &DetailPane::processedToggled, this, [this](qint64 id, bool processed) {
        m_deps.store.markProcessed({id}, processed).then(this, [this, id, processed](const Result<int> &r) {
            if (!r) {
                showMessage(tr("Could not change event %1: %2").arg(id).arg(r.error().message));
                return;
            }
            m_model->setProcessed(id, processed);
            onSelection();
            if (m_deps.book)
                m_deps.book->audit(u"dm"_s, processed ? u"mark processed"_s : u"mark unprocessed"_s, u"event %1"_s.arg(id));
            QTimer::singleShot(300, this, &MainWindow::refreshAudit);
        });
    });
    connect(m_model, &EventLogModel::rowsAppendedLive, this, [this] {
        if (isFollowing())
            m_view->scrollToBottom();
    });
    connect(m_model, &EventLogModel::eventsArrived, this, [this](const QList<StoredEvent> &events) {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (qsizetype i = 0; i < events.size(); ++i)
            m_recentArrivals.append(now);
        updateStatus();
        notifyAbout(events);
        // A world the filter does not list yet (a new campaign, a demo): list it,
        // with its name, without waiting for the next reload.
        for (const StoredEvent &e : events) {
            if (!e.worldId().isEmpty() && !m_filterBar->listsWorld(e.worldId())) {
                if (!std::exchange(m_worldsSoon, true)) {
                    // One look at a time, however fast the rows come.
                    QTimer::singleShot(300, this, [this] {
                        m_worldsSoon = false;
                        refreshNames();
                        refreshWorlds();
                    });
                }
                break;
            }
        }
    });
    connect(m_model, &EventLogModel::loaded, this, [this] {
        if (isFollowing())
            m_view->scrollToBottom();
        refreshJobLabels();
        refreshNames();
        refreshWorlds();
    });
    // Names given elsewhere (the command line, a session's rolls) show up within seconds.
    auto *namesTick = new QTimer(this);
    connect(namesTick, &QTimer::timeout, this, &MainWindow::refreshNames);
    namesTick->start(10000);
    connect(m_model, &QAbstractItemModel::rowsAboutToBeInserted, this, [this](const QModelIndex &, int first) {
        if (first == 0)
            m_topRowBefore = m_view->rowAt(0);
    });
    connect(m_model, &EventLogModel::olderLoaded, this, [this](int rows) {
        // Keep what the DM was looking at in place (or the newest, when
        // following), once the view has taken in its new length.
        const int top = std::exchange(m_topRowBefore, -1);
        QTimer::singleShot(0, this, [this, top, rows] {
            if (isFollowing())
                m_view->scrollToBottom();
            else if (top >= 0)
                m_view->scrollTo(m_model->index(top + rows, 0), QAbstractItemView::PositionAtTop);
        });
    });
    connect(m_model, &EventLogModel::matchingCountChanged, this, [this](qint64 n) {
        m_count->setText(tr("%Ln matching", nullptr, int(std::min<qint64>(n, INT_MAX))));
    });
    connect(m_model, &EventLogModel::jumped, this, [this](int row) {
        if (row < 0) {
            showMessage(tr("No event with that id matches the filter"));
            return;
        }
        setFollowing(false);
        m_view->selectRow(row);
        m_view->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter);
    });
    connect(m_model, &EventLogModel::errorOccurred, this, &MainWindow::showMessage);
    connect(m_view->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int value) {
        if (value == m_view->verticalScrollBar()->minimum() && m_model->canFetchOlder())
            m_model->fetchOlder();
        // Follow only while the DM stays at the bottom.
        const bool atBottom = value >= m_view->verticalScrollBar()->maximum() - 2;
        if (!atBottom && isFollowing() && m_view->verticalScrollBar()->isSliderDown())
            setFollowing(false);
    });

    auto *tick = new QTimer(this);
    connect(tick, &QTimer::timeout, this, &MainWindow::updateStatus);
    connect(tick, &QTimer::timeout, this, &MainWindow::refreshAudit);  // the server audits kicks and replays too
    tick->start(2000);

    const Settings settings(m_deps.location);
    restoreGeometry(settings.windowGeometry());
    // Docks, bars and column widths are kept per database, like the filters;
    // a database opened for the first time starts from the last layout used.
    restoreState(settings.layout());
    if (const QByteArray columns = settings.columns(); !columns.isEmpty())
        m_view->horizontalHeader()->restoreState(columns);
    if (!settings.hasWindowGeometry()) {
        // First start: a comfortable size that fits the screen it opens on (a 1024×700 laptop too).
        const QSize available = screen() ? screen()->availableSize() : QSize(1280, 780);
        resize(QSize(1280, 780).boundedTo(available));
        if (available.width() <= 1280 || available.height() <= 780)
            setWindowState(windowState() | Qt::WindowMaximized);
    }
    // Filters are remembered per database: a world of one campaign means
    // nothing in another's log. The world list arrives later; the remembered
    // world filters from the first page.
    connect(m_filter, &LogFilter::changed, this, &MainWindow::onFilterChanged);
    m_filter->restore(m_deps.location);
    m_filterBar->showState();
    refreshWorlds();
    refreshAudit();
    updateStatus();
}

MainWindow::~MainWindow() = default;  // out of line: DemoSession is complete here

bool MainWindow::isFollowing() const { return m_follow->isChecked(); }

void MainWindow::setFollowing(bool follow) { m_follow->setChecked(follow); }

void MainWindow::showMessage(const QString &text)
{
    qCInfo(lcUi).noquote() << text;
    statusBar()->showMessage(text, 8000);
}

// What each job is for, whichever rows are loaded: read from the Jobs
// projection when rows are loaded (a filter, a reload); jobs that start later
// are learnt from the live events themselves.
void MainWindow::refreshJobLabels()
{
    if (!m_deps.projector)
        return;
    m_deps.projector->jobs(5000).then(this, [this](const Result<QList<JobState>> &r) {
        if (!r)
            return;
        QHash<QString, QString> labels;
        for (const JobState &job : r.value())
            labels.insert(job.jobId, job.kind == JobState::Kind::Suggestion && !job.label.isEmpty() ? job.label + u" suggestion"_s : job.label);
        m_model->learnJobLabels(labels);
    });
}

void MainWindow::refreshNames()
{
    if (!m_deps.book)
        return;
    m_deps.book->displayNames().then(this, [this](const Result<QHash<QString, QString>> &r) {
        if (!r || r.value() == m_names)
            return;
        m_names = r.value();
        m_filter->setNames(m_names);
        m_model->setDisplayNames(m_names);
        if (m_deps.server)
            m_deps.server->setDisplayNames(m_names);
        if (m_deps.webhooks)
            m_deps.webhooks->setDisplayNames(m_names);  // {character} and {world} in the messages
        refreshWorlds();
    });
}

void MainWindow::refreshAudit()
{
    if (!m_deps.book)
        return;
    m_deps.book->auditLog(200).then(this, [this](const Result<QList<AuditEntry>> &r) {
        if (!r)
            return;
        m_audit->clear();
        for (const AuditEntry &a : r.value())
            m_audit->addItem(u"%1  %2  %3: %4"_s.arg(a.at.toLocalTime().toString(u"HH:mm:ss"_s), a.actor, a.action, a.detail));
    });
}

void MainWindow::updateStatus()
{
    const qint64 minuteAgo = QDateTime::currentMSecsSinceEpoch() - 60000;
    while (!m_recentArrivals.isEmpty() && m_recentArrivals.first() < minuteAgo)
        m_recentArrivals.removeFirst();
    m_statusRate->setText(tr("%1 events/min").arg(m_recentArrivals.size()));
    // Counted again only after the log changed: on a big SQLite log a count is
    // real work on the reader thread that subscribers share.
    if (m_totalStale && !m_counting) {
        m_totalStale = false;
        m_counting = true;
        m_deps.store.count({}).then(this, [this](const Result<qint64> &r) {
            m_counting = false;
            if (r)
                m_statusTotal->setText(tr("%L1 events").arg(r.value()));
        });
    }
    if (m_deps.server && m_deps.server->isListening())
        m_statusServer->setText(tr("Hosting %1 · %n client(s)", nullptr, m_deps.server->clientCount()).arg(m_deps.server->url().toString()));
    else
        m_statusServer->setText(tr("Not hosting"));
}

QList<const StoredEvent *> MainWindow::selectedEvents() const
{
    QList<const StoredEvent *> out;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows())
        if (const StoredEvent *e = m_model->eventAt(i.row()))
            out.append(e);
    std::sort(out.begin(), out.end(), [](auto *a, auto *b) { return a->id < b->id; });
    return out;
}

void MainWindow::onSelection()
{
    const QList<const StoredEvent *> events = selectedEvents();
    m_detail->show(events.size() == 1 ? events.first() : nullptr);
}

void MainWindow::notifyAbout(const QList<StoredEvent> &events)
{
    if (!m_desktop)
        return;
    for (const StoredEvent &e : events)
        if (e.event && m_notifyKinds.contains(e.event->kind()))
            m_desktop->notify(e.eventType, m_model->displaySummary(*e.event));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!mayEndSession(tr("Quit"))) {
        event->ignore();
        return;
    }
    Settings settings(m_deps.location);
    settings.setWindowGeometry(saveGeometry());
    settings.setWindowState(saveState());
    settings.setLayout(saveState());
    settings.setColumns(m_view->horizontalHeader()->saveState());
    // Recordings end with what they received made durable (a few milliseconds;
    // at most 3 s, should the disk be stuck).
    m_recordings->finish(3000);
    QMainWindow::closeEvent(event);
}

} // namespace eventdesk
