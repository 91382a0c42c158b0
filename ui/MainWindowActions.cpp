// The window's menus and the actions behind them: opening and creating
// databases, export, triggers and quick actions, replay, challenges, names, prune.
#include "MainWindow.h"

#include "ChallengesDialog.h"
#include "PlainText.h"
#include "DemoSession.h"
#include "DetailPane.h"
#include "EventCodec.h"
#include "EventLogModel.h"
#include "FilterBar.h"
#include "Ids.h"
#include "InsightPanel.h"
#include "UiLog.h"
#include "Metrics.h"
#include "NotificationsDialog.h"
#include "PruneDialog.h"
#include "QuickActions.h"
#include "RowFormat.h"
#include "LogTransfer.h"
#include "Recordings.h"
#include "SessionPanel.h"
#include "Settings.h"
#include "SessionServer.h"
#include "StoreScans.h"
#include "TaskProgress.h"
#include "Timestamp.h"
#include "TriggerDialog.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QSaveFile>
#include <QScrollBar>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>




using namespace Qt::StringLiterals;

namespace eventdesk {

void MainWindow::buildActions()
{
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New database…"), QKeySequence::New, this, &MainWindow::newDatabase);
    file->addAction(tr("&Open database…"), QKeySequence::Open, this, &MainWindow::openDatabase);
    QMenu *recent = file->addMenu(tr("Open &recent"));
    connect(recent, &QMenu::aboutToShow, this, [this, recent] {
        recent->clear();
        const QStringList paths = Settings().recentDatabases();
        for (const QString &path : paths) {
            QAction *a = recent->addAction(path, this, [this, path] {
                if (mayEndSession(tr("Open another database")))
                    Q_EMIT openDatabaseRequested(path);
            });
            a->setEnabled(QFileInfo::exists(path));
        }
        if (paths.isEmpty())
            recent->addAction(tr("(none yet)"))->setEnabled(false);
    });
    file->addSeparator();
    file->addAction(tr("&Export the filtered events…"), QKeySequence(u"Ctrl+E"_s), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the filtered events"), u"events.jsonl"_s,
                                                          tr("JSON lines (*.jsonl);;CSV (*.csv)"));
        if (!path.isEmpty())
            exportFiltered(path);
    });
    if (!isReadOnly()) {
        QAction *import = file->addAction(tr("&Import events…"), this, [this] {
            const QString path = QFileDialog::getOpenFileName(this, tr("Import events"), QString(),
                                                              tr("JSON lines (*.jsonl *.json *.txt);;All files (*)"));
            if (!path.isEmpty())
                importFile(path);
        });
        if (!m_deps.importer) {
            import->setEnabled(false);
            import->setToolTip(tr("Into a Redis stream: eventdesk import --bus redis://…"));
        }
    }
    if (!isReadOnly()) {
        file->addSeparator();
        QAction *record = file->addAction(tr("&Record an engine…"), this, &MainWindow::openRecord);
        record->setObjectName(u"recordEngine"_s);
        if (isReadOnly()) {
            record->setEnabled(false);
            record->setToolTip(tr("This log cannot be written here"));
        }
        m_recordings->setStopAction(file->addAction(tr("Stop recording")));
        file->addSeparator();
    }
    if (m_deps.retention && !isReadOnly())
        file->addAction(tr("&Prune old events…"), this, &MainWindow::openPrune);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    auto *events = menuBar()->addMenu(tr("&Events"));
    QAction *trigger = events->addAction(tr("&Trigger an event…"), QKeySequence(u"Ctrl+T"_s), this, [this] {
        auto *dialog = new TriggerDialog(m_deps.bus, currentWorld(), this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        // One event selected: the form opens on it, to duplicate and edit.
        if (const QList<const StoredEvent *> selected = selectedEvents(); selected.size() == 1 && selected.first()->event)
            dialog->prefill(*selected.first()->event);
        connect(dialog, &TriggerDialog::published, this, [this](qint64 id, const QStringList &plainIds) {
            // Into a log of UUIDs (the engine's), other ids are worth a warning: its readers refuse them.
            // The rows held tell.
            const qint64 first = m_model->firstLoaded(), end = first + m_model->loadedCount();
            bool uuidLog = m_model->loadedCount() > 1;
            for (qint64 r = first; r < end && uuidLog; ++r)
                if (const StoredEvent *e = m_model->eventAt(int(r)); e && e->event && e->id != id)
                    uuidLog = ids::nonUuidIds(*e->event).isEmpty();
            if (!plainIds.isEmpty() && uuidLog)
                showMessage(tr("Published event %1 — warning: ids that are not UUIDs (%2); the engine's readers refuse them")
                                .arg(id).arg(plainIds.join(u", "_s)));
            else
                showMessage(tr("Published event %1").arg(id));
            if (m_deps.book)
                m_deps.book->audit(u"dm"_s, u"trigger"_s, u"event %1"_s.arg(id));
            QTimer::singleShot(300, this, &MainWindow::refreshAudit);
        });
        dialog->open();
    });
    m_quick = new QuickActions(m_deps.bus, m_deps.book, [this] { return currentWorld(); }, this);
    m_quick->setKnownWorlds([this] { return m_filterBar->worlds(); });
    connect(m_quick, &QuickActions::done, this, &MainWindow::showMessage);
    connect(m_quick, &QuickActions::failed, this, &MainWindow::showMessage);
    menuBar()->addMenu(m_quick->menu());
    events->addAction(tr("&Replay selected to the session…"), QKeySequence(u"Ctrl+R"_s), this, &MainWindow::replaySelected);
    events->addAction(tr("Re-publish a &copy…"), this, &MainWindow::republishSelected);
    events->addSeparator();
    if (m_deps.book) {
        events->addAction(tr("C&hallenges…"), QKeySequence(u"Ctrl+H"_s), this, &MainWindow::openChallenges);
        events->addAction(tr("&Name a world or character…"), this, &MainWindow::nameSomething);
    }
    m_demoAction = events->addAction(tr("Play a &demo session…"), this, &MainWindow::toggleDemo);
    m_demoAction->setEnabled(!isReadOnly());
    events->addSeparator();
    events->addAction(tr("&Filter"), QKeySequence::Find, this, [this] {
        m_filterBar->text()->setFocus();
        m_filterBar->text()->selectAll();
    });
    events->addAction(tr("F&ollow"), QKeySequence(u"Ctrl+L"_s), this, [this] { setFollowing(!isFollowing()); });

    auto *settingsMenu = menuBar()->addMenu(tr("&Settings"));
    settingsMenu->setObjectName(u"settingsMenu"_s);
    if (m_deps.book && m_deps.webhooks) {
        QAction *notifications = settingsMenu->addAction(tr("N&otifications…"), this, &MainWindow::openNotifications);
        notifications->setObjectName(u"notifications"_s);
        notifications->setToolTip(tr("Post chosen events to your group's Discord or Slack, or any URL"));
    }
    QMenu *notify = settingsMenu->addMenu(tr("&Notify me about"));
    for (const VariantSpec &v : catalog::variants()) {
        QAction *a = notify->addAction(v.name);
        a->setCheckable(true);
        a->setData(int(v.kind));
        connect(a, &QAction::toggled, this, [this, kind = v.kind](bool on) {
            QList<EventKind> kinds = m_notifyKinds;
            kinds.removeAll(kind);
            if (on)
                kinds.append(kind);
            setNotifyKinds(kinds);
        });
    }
    if (m_deps.metrics && m_deps.server) {
        // Prometheus metrics on the session port, remembered; off unless the DM asks.
        QAction *metrics = settingsMenu->addAction(tr("Serve /&metrics while hosting"));
        metrics->setObjectName(u"serveMetrics"_s);
        metrics->setCheckable(true);
        metrics->setToolTip(tr("Prometheus can scrape http://ADDRESS:PORT/metrics of the session while you host"));
        connect(metrics, &QAction::toggled, this, [this](bool on) {
            Settings().setServeMetrics(on);
            m_deps.metrics->serveOnSessionPort(*m_deps.server, on);
            if (m_deps.server->isListening())
                showMessage(on ? tr("Metrics at %1/metrics").arg(m_deps.server->joinLink(QString()).adjusted(QUrl::RemovePath | QUrl::RemoveQuery).toString())
                               : tr("Metrics are no longer served"));
        });
        metrics->setChecked(Settings().serveMetrics());
    }
    connect(notify, &QMenu::aboutToShow, this, [this, notify] {
        for (QAction *a : notify->actions()) {
            const QSignalBlocker block(a);
            a->setChecked(m_notifyKinds.contains(EventKind(a->data().toInt())));
        }
    });

    if (isReadOnly()) {
        // Nothing that would write to the log: say why instead of failing later.
        const QString why = tr("The database is open read-only");
        for (QAction *a : {trigger, m_quick->menu()->menuAction()}) {
            a->setEnabled(false);
            a->setToolTip(why);
        }
        for (QAction *a : events->actions())
            if (a->text() == tr("Re-publish a &copy…"))
                a->setEnabled(false);
    }
    auto *bar = addToolBar(tr("Actions"));
    bar->setObjectName(u"actionBar"_s);
    bar->addAction(trigger);
    auto *quickButton = new QToolButton(this);
    quickButton->setText(tr("Quick"));
    quickButton->setToolTip(tr("Record a story event, trigger a narrative event, roll a challenge, queue a job"));
    quickButton->setMenu(m_quick->menu());
    quickButton->setPopupMode(QToolButton::InstantPopup);
    quickButton->setEnabled(!isReadOnly());
    bar->addWidget(quickButton);
    // The log's own controls beside the actions: the filters get a whole row below.
    bar->addSeparator();
    bar->addWidget(m_jump);
    bar->addWidget(m_follow);
    bar->addWidget(new QLabel(u"  "_s, this));
    bar->addWidget(m_count);
    for (QToolBar *filters : findChildren<QToolBar *>())
        if (filters->objectName() == u"filterBar"_s) {
            removeToolBar(bar);
            insertToolBar(filters, bar);
            bar->show();
            insertToolBarBreak(filters);
        }
}

void MainWindow::setNotifyKinds(const QList<EventKind> &kinds)
{
    m_notifyKinds = kinds;
    Settings().setNotifyKinds(kinds);
}

void MainWindow::exportFiltered(const QString &path)
{
    m_transfer->exportRows(m_model->query(), m_model->isCounted() ? m_model->rowCount() : 0, path);
}

void MainWindow::importFile(const QString &path)
{
    m_transfer->importFile(path);
}

// A display name for a world's or a character's UUID, offered from the selected
// event's ids. The dialog's fields are read before it goes.
void MainWindow::nameSomething()
{
    if (!m_deps.book)
        return;
    QStringList offered;
    QString kind = u"character"_s;
    if (const QList<const StoredEvent *> sel = selectedEvents(); !sel.isEmpty() && sel.first()->event) {
        const QJsonObject fields = codec::fieldsToJson(*sel.first()->event);
        for (const char *key : {"character_id", "world_id", "entity_id"})
            if (const QString id = fields.value(QLatin1StringView(key)).toString(); !id.isEmpty())
                offered.append(id);
        if (!fields.contains(u"character_id"_s) && fields.contains(u"world_id"_s))
            kind = u"world"_s;
    }
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Name a world or character"));
    auto *form = new QFormLayout(&dialog);
    auto *id = new QComboBox(&dialog);
    id->setEditable(true);
    id->addItems(offered);
    auto *what = new QComboBox(&dialog);
    what->addItem(tr("Character"), u"character"_s);
    what->addItem(tr("World"), u"world"_s);
    what->setCurrentIndex(kind == u"world"_s ? 1 : 0);
    auto *name = new QLineEdit(&dialog);
    name->setPlaceholderText(tr("Aria, Ravenmoor, …"));
    name->setText(m_names.value(id->currentText()));
    connect(id, &QComboBox::currentTextChanged, name, [this, name](const QString &text) { name->setText(m_names.value(text)); });
    form->addRow(tr("Id (UUID)"), id);
    form->addRow(tr("It is a"), what);
    form->addRow(tr("Name"), name);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, [&] {
        if (!id->currentText().trimmed().isEmpty())
            dialog.accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QString theId = id->currentText().trimmed(), theKind = what->currentData().toString(), theName = name->text().trimmed();
    m_deps.book->setDisplayName(theKind, theId, theName).then(this, [this, theId, theName](const Result<bool> &r) {
        if (!r) {
            showMessage(r.error().message);
            return;
        }
        showMessage(theName.isEmpty() ? tr("%1 has no display name now").arg(theId) : tr("%1 is now shown as %2").arg(theId, theName));
        refreshNames();
    });
}

void MainWindow::openChallenges()
{
    if (!m_deps.book)
        return;
    const QStringList worlds = knownWorlds();
    auto *dialog = new ChallengesDialog(*m_deps.book, worlds, currentWorld(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ChallengesDialog::changed, this, [this] { QTimer::singleShot(300, this, &MainWindow::refreshAudit); });
    dialog->open();
}

// The worlds the world filter lists (every world seen), ids only.
QStringList MainWindow::knownWorlds() const
{
    QStringList worlds;
    for (const auto &[id, name] : m_filterBar->worlds())
        worlds.append(id);
    return worlds;
}

void MainWindow::openNotifications()
{
    if (!m_deps.webhooks)
        return;
    auto *dialog = new NotificationsDialog(*m_deps.webhooks, knownWorlds(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void MainWindow::openPrune()
{
    if (!m_deps.retention)
        return;
    auto *dialog = new PruneDialog(*m_deps.retention, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &PruneDialog::pruned, this, [this](const PruneReport &report) {
        showMessage(tr("Pruned %n event(s); archive %1", nullptr, int(report.deleted)).arg(report.archivePath));
        m_model->setQuery(m_model->query());  // reload what is left
        m_totalStale = true;
        QTimer::singleShot(300, this, &MainWindow::refreshAudit);
    });
    dialog->open();
}

void MainWindow::replaySelected()
{
    const QList<const StoredEvent *> events = selectedEvents();
    if (events.isEmpty()) {
        showMessage(tr("Select the events to replay first"));
        return;
    }
    if (!m_deps.server || !m_deps.server->isListening()) {
        showMessage(tr("Start hosting first: replay re-sends events to the connected players"));
        return;
    }
    int audience = 0;
    for (const StoredEvent *e : events)
        if (e->event)
            audience = std::max(audience, m_deps.server->audienceFor(*e->event));
    if (!plain::ask(this, tr("Replay"),
                    tr("Re-send %n event(s) to the session? Up to %1 connected client(s) will receive them, marked as a replay.",
                       nullptr, int(events.size())).arg(audience)))
        return;
    for (const StoredEvent *e : events)
        m_deps.server->replay(e->id, e->id, {}, u"dm"_s);
    showMessage(tr("Replayed %n event(s)", nullptr, int(events.size())));
    QTimer::singleShot(300, this, &MainWindow::refreshAudit);
}

void MainWindow::republishSelected()
{
    const QList<const StoredEvent *> events = selectedEvents();
    QList<AppEvent> copies;
    for (const StoredEvent *e : events)
        if (e->event)
            copies.append(*e->event);
    if (copies.isEmpty()) {
        showMessage(tr("Select decodable events to re-publish"));
        return;
    }
    if (!plain::ask(this, tr("Re-publish"), tr("Publish %n copy(ies) as new event(s)?", nullptr, int(copies.size()))))
        return;
    m_deps.bus.publishBatch(copies).then(this, [this](const BatchPublishResult &r) {
        if (!r) {
            showMessage(tr("Not published: %1").arg(r.error().message));
            return;
        }
        showMessage(tr("Published copies as %1–%2").arg(r->first()).arg(r->last()));
        if (m_deps.book)
            m_deps.book->audit(u"dm"_s, u"republish"_s, u"new events %1–%2"_s.arg(r->first()).arg(r->last()));
        QTimer::singleShot(300, this, &MainWindow::refreshAudit);
    });
}

bool MainWindow::mayEndSession(const QString &act)
{
    const int players = m_deps.server && m_deps.server->isListening() ? m_deps.server->clientCount() : 0;
    if (players == 0)
        return true;
    return plain::confirmAct(this, act,
                      tr("%n player(s) connected will be disconnected, and the session ends.", nullptr, players), act);
}

void MainWindow::openDatabase()
{
    if (!mayEndSession(tr("Open another database")))
        return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open an app_events database"), QString(),
                                                      tr("SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)"));
    if (!path.isEmpty())
        Q_EMIT openDatabaseRequested(path);
}

void MainWindow::newDatabase()
{
    // A new, empty event log: never over an existing file (that is Open's).
    QFileDialog dialog(this, tr("New event database"), QString(), tr("SQLite databases (*.db)"));
    dialog.setAcceptMode(QFileDialog::AcceptSave);
    dialog.setDefaultSuffix(u"db"_s);
    dialog.setOption(QFileDialog::DontConfirmOverwrite);  // nothing is overwritten: an existing file is refused below
    if (const QFileInfo current(m_deps.location); current.isFile())
        dialog.setDirectory(current.absolutePath());
    dialog.selectFile(u"campaign.db"_s);
    if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty())
        return;
    const QString path = dialog.selectedFiles().constFirst();
    // A database whose pages are all still in its write-ahead log has a zero-length main file.
    if (QFileInfo(path).size() > 0 || QFileInfo::exists(path + u"-wal"_s)) {
        plain::inform(this, tr("New database"),
                      tr("%1 already exists. Use File → Open database… to open it; "
                         "nothing was changed.").arg(QDir::toNativeSeparators(path)));
        return;
    }
    Q_EMIT newDatabaseRequested(path);
}

// A two-minute session of play through the producers, into this database: to
// see EventDesk at work before the engine runs, or to show players the page.
void MainWindow::toggleDemo()
{
    if (m_demo && m_demo->isRunning()) {
        m_demo->stop();
        return;
    }
    if (!plain::confirmAct(this, tr("Play a demo session"),
                    tr("For two minutes, story beats, challenge rolls, narrative events and generation and "
                       "suggestion jobs are published in the worlds Ravenmoor and Sunken Isles of this "
                       "database (%1), as the engine would. They stay in its log.")
                        .arg(QFileInfo(m_deps.location).fileName()),
                    tr("Play")))
        return;
    DemoOptions options;
    options.worlds = {u"Ravenmoor"_s, u"Sunken Isles"_s};
    options.actionsPerSecond = 3;
    options.durationMs = 120000;
    m_demo = std::make_unique<DemoSession>(m_deps.bus, m_deps.book, options);
    connect(m_demo.get(), &DemoSession::finished, this, [this] {
        showMessage(tr("The demo session is over: %L1 game actions").arg(m_demo->actions()));
        m_demoAction->setText(tr("Play a &demo session…"));
        QTimer::singleShot(0, this, [this] { m_demo.reset(); });
    });
    m_demoAction->setText(tr("Stop the &demo session"));
    setFollowing(true);
    m_demo->start();
    QTimer::singleShot(500, this, &MainWindow::refreshNames);  // its worlds and characters by name at once
    showMessage(tr("Playing a demo session for two minutes (Events → Stop the demo session)"));
}

} // namespace eventdesk
