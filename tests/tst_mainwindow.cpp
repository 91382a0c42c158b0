// The DM's window driven through its widgets, offscreen: filtering, triggering,
// hosting and kicking a player; and screenshots of it during a simulated session.
#include "Banners.h"
#include "BusNotifier.h"
#include "ChallengesDialog.h"
#include "EventLogModel.h"
#include "Ids.h"
#include "MainWindow.h"
#include "Producers.h"
#include "Projector.h"
#include "PruneDialog.h"
#include "QuickActions.h"
#include "Retention.h"
#include "SessionPanel.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"
#include "TriggerDialog.h"

#include <QApplication>
#include <QMenu>
#include <QDialogButtonBox>
#include <QInputDialog>
#include <QElapsedTimer>
#include <QProcess>
#include <QSettings>
#include <QTimer>
#include <QCheckBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QStatusBar>
#include <QComboBox>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QFileDialog>
#include <QMessageBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QToolButton>
#include <QWebSocket>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

// Runs act on the next modal dialog of type D as soon as it shows (or gives up after 5 s).
template <typename D, typename F>
static void whenModal(QObject *context, F act, int triesLeft = 500)
{
    QTimer::singleShot(10, context, [context, act, triesLeft] {
        if (auto *dialog = qobject_cast<D *>(QApplication::activeModalWidget()); dialog && dialog->isVisible())
            act(dialog);
        else if (triesLeft > 0)
            whenModal<D>(context, act, triesLeft - 1);
    });
}

// As a DM would: the name typed into the dialog's file name box, then Save.
static void typeFileName(QFileDialog *dialog, const QString &path)
{
    auto *edit = dialog->findChild<QLineEdit *>(u"fileNameEdit"_s);
    QVERIFY(edit);
    // Set, not typed key by key: typed paths open the dialog's completer popup,
    // which takes the click meant for Save.
    edit->setText(path);
    auto *buttons = dialog->findChild<QDialogButtonBox *>(u"buttonBox"_s);
    QVERIFY(buttons && !buttons->buttons().isEmpty());
    for (QAbstractButton *b : buttons->buttons()) {
        if (buttons->buttonRole(b) != QDialogButtonBox::AcceptRole)
            continue;
        // The dialog enables Save once its file model has read the folder.
        QTRY_VERIFY_WITH_TIMEOUT(b->isEnabled(), 5000);
        b->click();
    }
}

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void filteringThroughTheFilterBar();
    void triggeringThroughTheForm();
    void duplicateAndEditThroughTheTriggerForm();
    void hostingAndKicking();
    void quickActionsThroughTheProducers();
    void quickRollThroughItsDialog();
    void namingAWorldThroughItsDialog();
    void newDatabaseThroughItsDialog();
    void exportingTheFilteredRows();
    void timeRangeFilter();
    void editingChallenges();
    void notificationsTheDmPicks();
    void lockedDatabaseKeepsTheWindowAlive();
    void pruningWithAPreview();
    void screenshots();

private:
    void saveShot(const QString &name);

    QTemporaryDir m_dir;
    std::unique_ptr<SqliteEventStore> m_store;
    std::unique_ptr<BusNotifier> m_notifier;
    std::unique_ptr<StoreEventBus> m_bus;
    std::unique_ptr<SessionServer> m_server;
    std::unique_ptr<Projector> m_projector;
    std::unique_ptr<LogRetention> m_retention;
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    SqliteOptions o;
    o.path = m_dir.filePath(u"desk.db"_s);
    m_store = std::make_unique<SqliteEventStore>(o);
    QVERIFY(m_store->openAndWait().ok());
    m_notifier = std::make_unique<BusNotifier>(0);
    m_bus = std::make_unique<StoreEventBus>(*m_store, *m_notifier);

    // A game in progress, through the producers.
    StoryEventService story(*m_bus);
    ChallengeService challenges(*m_bus, 99);
    NarrativeEventService narrative(*m_bus);
    GenerationEventPublisher publisher(*m_bus);
    const QStringList worlds = {u"Ravenmoor"_s, u"Sunken Isles"_s};
    const QStringList checks = {u"Pick the lock"_s, u"Climb the cliff"_s, u"Persuade the guard"_s, u"Decipher the runes"_s};
    for (int i = 0; i < 60; ++i) {
        const QString world = worlds.at(i % 2);
        await(story.record(world, StoryKind(i % StoryKindCount)));
        await(challenges.resolve(std::nullopt, checks.at(i % 4), world, u"pc%1"_s.arg(1 + i % 4), 12, i % 5 - 1).published);
        if (i % 7 == 0)
            await(narrative.markTriggered(u"n%1"_s.arg(i), world, u"The bridge collapses"_s, u"Party falls into the river"_s));
        if (i % 5 == 0) {
            using namespace generation;
            const QString batch = u"b%1"_s.arg(i);
            await(publisher.publish({BatchQueued{batch, u"character"_s, u"pc2"_s, u"portrait"_s, 0}, std::nullopt, std::nullopt}));
            await(publisher.publish({BatchProgress{batch, 60}, std::nullopt, std::nullopt}));
            if (i % 10 == 0)
                await(publisher.publish({BatchComplete{batch, u"character"_s, u"pc2"_s, u"portrait"_s, 4}, std::nullopt, std::nullopt}));
            else
                await(publisher.publish({BatchFailed{batch, u"character"_s, u"pc2"_s, u"portrait"_s, u"GPU out of memory"_s}, std::nullopt, std::nullopt}));
        }
    }
    QVERIFY(await(m_store->desk()->addChallenge(u"Ravenmoor"_s, u"Pick the lock"_s, 15)).ok());

    SessionConfig config;
    config.joinCode = u"RAVEN7K3"_s;
    config.dmToken = u"0123456789abcdef0123456789abcdef"_s;
    m_server = std::make_unique<SessionServer>(*m_store, *m_bus, *m_notifier, m_store->desk(), config);
    m_projector = std::make_unique<Projector>(*m_store, *m_notifier, *m_store->desk());
    m_retention = std::make_unique<LogRetention>(*m_store);
    m_projector->start();
    QTRY_VERIFY(m_projector->cursor() > 100);
    m_window = std::make_unique<MainWindow>(MainWindowDeps{*m_store, *m_bus, *m_notifier, m_store->desk(), m_store.get(), m_retention.get(),
                                                           m_server.get(), o.path,
                                                           m_projector.get()});
    m_window->resize(1400, 820);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QTRY_VERIFY(m_window->model()->rowCount() > 100);
}

void TestMainWindow::filteringThroughTheFilterBar()
{
    EventLogModel *model = m_window->model();
    QSignalSpy loaded(model, &EventLogModel::loaded);
    QComboBox *world = m_window->worldFilter();
    QTRY_VERIFY(world->findData(u"Ravenmoor"_s) >= 0);
    world->setCurrentIndex(world->findData(u"Ravenmoor"_s));
    Q_EMIT world->activated(world->currentIndex());
    QTRY_VERIFY(loaded.size() >= 1);
    QVERIFY(model->rowCount() > 0);
    for (int r = 0; r < model->rowCount(); ++r)
        QCOMPARE(model->eventAt(r)->event->worldId(), u"Ravenmoor"_s);

    QComboBox *type = m_window->typeFilter();
    type->setCurrentIndex(type->findData(u"challenge"_s));
    Q_EMIT type->activated(type->currentIndex());
    QTRY_VERIFY(loaded.size() >= 2);
    for (int r = 0; r < model->rowCount(); ++r)
        QCOMPARE(model->eventAt(r)->event->kind(), EventKind::ChallengeResolved);

    QTest::keyClicks(m_window->textFilter(), u"pc3"_s);
    QTRY_VERIFY(loaded.size() >= 3);
    for (int r = 0; r < model->rowCount(); ++r)
        QCOMPARE(model->eventAt(r)->event->as<events::ChallengeResolved>()->characterId, u"pc3"_s);

    // Matches are marked in the detail pane of a selected row.
    m_window->view()->selectRow(0);
    auto *detailText = m_window->findChild<QTextBrowser *>();
    QVERIFY(detailText);
    QTRY_VERIFY(!detailText->extraSelections().isEmpty());
    QCOMPARE(detailText->extraSelections().first().cursor.selectedText(), u"pc3"_s);
    m_window->view()->clearSelection();

    // The active filter is said above the log, in words.
    QTRY_VERIFY(m_window->filterBanner()->isVisible());
    const QString said = m_window->filterBanner()->text();
    QVERIFY2(said.contains(u"Ravenmoor"_s) && said.contains(u"Challenge"_s) && said.contains(u"pc3"_s), qPrintable(said));
    // A match the summary does not show: the row says where it is.
    m_window->textFilter()->setText(u"challenge_id"_s);
    QTRY_VERIFY(!model->isLoading() && model->rowCount() > 0
                && model->index(0, EventLogModel::SummaryColumn).data().toString().contains(u"challenge_id"_s));
    QVERIFY2(model->index(0, EventLogModel::SummaryColumn).data().toString().contains(u"  — “"_s),
             qPrintable(model->index(0, EventLogModel::SummaryColumn).data().toString()));

    // No match: the empty state offers to clear, and its link does.
    m_window->textFilter()->setText(u"no-such-thing-anywhere"_s);
    QTRY_VERIFY(m_window->emptyState()->isVisible());
    QCOMPARE(m_window->emptyState()->title(), u"No event matches the filter"_s);
    Q_EMIT m_window->emptyState()->linkActivated(u"#clear"_s);
    QTRY_VERIFY(!model->isLoading() && model->rowCount() > 100);
    QVERIFY(!m_window->emptyState()->isVisible());
    QVERIFY(!m_window->filterBanner()->isVisible());
    QCOMPARE(world->currentIndex(), 0);
    QCOMPARE(type->currentIndex(), 0);
    QVERIFY(m_window->textFilter()->text().isEmpty());

    // Clear filters on the banner does the same.
    world->setCurrentIndex(world->findData(u"Ravenmoor"_s));
    Q_EMIT world->activated(world->currentIndex());
    QTRY_VERIFY(m_window->filterBanner()->isVisible());
    m_window->filterBanner()->button()->click();
    QTRY_VERIFY(!m_window->filterBanner()->isVisible());
    QTRY_VERIFY(model->rowCount() > 100);

    // One click hides every *Progress row, and says so; the log has some to hide.
    const auto progressRows = [model] {
        int n = 0;
        for (int r = 0; r < model->rowCount(); ++r)
            n += model->eventAt(r)->eventType.endsWith(u"Progress"_s);
        return n;
    };
    QVERIFY(progressRows() > 0);
    m_window->hideProgressButton()->click();
    QTRY_VERIFY(!model->isLoading() && model->rowCount() > 0 && progressRows() == 0);
    QVERIFY(m_window->filterBanner()->text().contains(u"progress"_s));
    m_window->filterBanner()->button()->click();
    QTRY_VERIFY(!model->isLoading() && progressRows() > 0);
    QVERIFY(!m_window->hideProgressButton()->isChecked());
}

void TestMainWindow::quickActionsThroughTheProducers()
{
    QuickActions *quick = m_window->quickActions();
    QVERIFY(quick);
    EventLogModel *model = m_window->model();
    QSignalSpy done(quick, &QuickActions::done);
    const auto lastEvent = [&] { return model->eventAt(model->rowCount() - 1); };

    quick->recordStory(u"Ravenmoor"_s, StoryKind::LocationDiscovered);
    QTRY_COMPARE(done.size(), 1);
    QTRY_VERIFY(lastEvent()->eventType == u"StoryEventCreated"_s);
    QCOMPARE(lastEvent()->event->as<events::StoryEventCreated>()->eventType, u"location_discovered"_s);

    quick->triggerNarrative(u"Ravenmoor"_s, u"The tower falls"_s, u"Dust everywhere"_s);
    QTRY_COMPARE(done.size(), 2);
    QTRY_VERIFY(lastEvent()->eventType == u"NarrativeEventTriggered"_s);

    const Challenge lock = await(m_store->desk()->challenges(u"Ravenmoor"_s)).value().first();
    quick->rollChallenge(lock, u"pc9"_s, 3);
    QTRY_COMPARE(done.size(), 3);
    QTRY_VERIFY(lastEvent()->eventType == u"ChallengeResolved"_s);
    const auto *roll = lastEvent()->event->as<events::ChallengeResolved>();
    QCOMPARE(roll->characterId, u"pc9"_s);
    QCOMPARE(roll->challengeId, std::optional<QString>(lock.id));
    QCOMPARE(*roll->total, *roll->roll + 3);
    QCOMPARE(roll->success, *roll->total >= lock.difficulty);

    // A generation job: queued, then progress, then completed or failed, all through the log.
    quick->queueGeneration(u"character"_s, u"pc9"_s, u"portrait"_s);
    QTRY_VERIFY_WITH_TIMEOUT(lastEvent()->eventType == u"GenerationBatchCompleted"_s
                                 || lastEvent()->eventType == u"GenerationBatchFailed"_s, 20000);
    quick->requestSuggestion(u"npc_name"_s, u"Ravenmoor"_s);
    QTRY_VERIFY_WITH_TIMEOUT(lastEvent()->eventType == u"SuggestionCompleted"_s
                                 || lastEvent()->eventType == u"SuggestionFailed"_s, 20000);
}

// Quick → Roll a challenge as a DM does it: the real modal loop, a refusal shown
// in the dialog while it stays open, then the roll. (The fields were once read
// after the dialog had deleted them: a crash on OK.)
void TestMainWindow::quickRollThroughItsDialog()
{
    QuickActions *quick = m_window->quickActions();
    QAction *roll = nullptr;
    for (QAction *a : quick->menu()->actions())
        if (a->text().contains(u"Roll a challenge"_s))
            roll = a;
    QVERIFY(roll);
    EventLogModel *model = m_window->model();
    const qint64 before = model->eventAt(model->rowCount() - 1)->id;
    bool sawError = false, filled = false;
    int step = 0;
    // Answers whatever modal dialog is up: the world question, then the roll form twice.
    std::function<void()> answer = [&] {
        QWidget *modal = QApplication::activeModalWidget();
        if (!modal) {
            if (step < 40) {
                ++step;
                QTimer::singleShot(50, answer);
            }
            return;
        }
        if (modal->windowTitle() == u"Which world?"_s) {
            // The world picker offers the log's worlds; Ravenmoor is one of them.
            auto *world = modal->findChild<QComboBox *>();
            QVERIFY(world && world->findText(u"Ravenmoor"_s) >= 0);
            world->setCurrentIndex(world->findText(u"Ravenmoor"_s));
            modal->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
        } else {
            QLineEdit *character = nullptr;
            for (QComboBox *combo : modal->findChildren<QComboBox *>())
                if (combo->isEditable())
                    character = combo->lineEdit();
            QVERIFY(character);
            auto *modifier = modal->findChild<QSpinBox *>();
            auto *ok = modal->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
            if (!filled) {
                // No character yet: said at once, and OK is off until one is named.
                QVERIFY(!ok->isEnabled());
                ok->click();
                const auto labels = modal->findChildren<QLabel *>();
                sawError = std::any_of(labels.begin(), labels.end(), [](QLabel *l) {
                    return l->isVisible() && l->text().contains(u"Name the character"_s);
                });
                character->setText(u"Aria"_s);
                modifier->setValue(2);
                filled = true;
            }
            ok->click();
            return;
        }
        QTimer::singleShot(50, answer);
    };
    QTimer::singleShot(0, answer);
    roll->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(model->eventAt(model->rowCount() - 1)->id > before
                                 && model->eventAt(model->rowCount() - 1)->eventType == u"ChallengeResolved"_s, 10000);
    QVERIFY(sawError);
    const auto *r = model->eventAt(model->rowCount() - 1)->event->as<events::ChallengeResolved>();
    // A character typed by name is a UUID in the log, and "Aria" on screen.
    QCOMPARE(r->characterId, ids::characterUuid(u"Ravenmoor"_s, u"Aria"_s));
    QCOMPARE(*r->total, *r->roll + 2);
    QTRY_COMPARE(await(m_store->desk()->displayNames()).value().value(r->characterId), u"Aria"_s);

    // The next roll in Ravenmoor offers Aria by name; Cancel publishes nothing.
    m_window->worldFilter()->setCurrentIndex(m_window->worldFilter()->findData(u"Ravenmoor"_s));
    const qint64 last = model->eventAt(model->rowCount() - 1)->id;
    bool offered = false;
    whenModal<QDialog>(this, [&offered](QDialog *form) {
        for (QComboBox *combo : form->findChildren<QComboBox *>())
            if (combo->isEditable())
                offered = combo->findText(u"Aria"_s) >= 0;
        form->reject();
    });
    roll->trigger();
    QTRY_VERIFY(offered);
    QTest::qWait(200);
    QCOMPARE(model->eventAt(model->rowCount() - 1)->id, last);
    m_window->worldFilter()->setCurrentIndex(0);
}

// Events → Name a world or character, through the real modal loop: the World
// column and the world filter then show the name, the data keeps the id.
void TestMainWindow::namingAWorldThroughItsDialog()
{
    QAction *name = nullptr;
    for (QAction *a : m_window->findChildren<QAction *>())
        if (a->text().contains(u"Name a world or character"_s))
            name = a;
    QVERIFY(name);
    QTimer::singleShot(0, this, [] {
        QWidget *modal = QApplication::activeModalWidget();
        QVERIFY(modal);
        const auto combos = modal->findChildren<QComboBox *>();
        QComboBox *id = combos.value(0), *kind = combos.value(1);
        id->setEditText(u"Sunken Isles"_s);
        kind->setCurrentIndex(1);  // a world
        for (QLineEdit *e : modal->findChildren<QLineEdit *>())
            if (e != id->lineEdit())
                e->setText(u"The Sunken Isles"_s);
        modal->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
    });
    name->trigger();
    QTRY_COMPARE(await(m_store->desk()->displayNames()).value().value(u"Sunken Isles"_s), u"The Sunken Isles"_s);
    QComboBox *world = m_window->worldFilter();
    QTRY_VERIFY(world->findText(u"The Sunken Isles"_s) >= 0);
    QCOMPARE(world->itemData(world->findText(u"The Sunken Isles"_s)).toString(), u"Sunken Isles"_s);
}

void TestMainWindow::newDatabaseThroughItsDialog()
{
    QAction *create = nullptr;
    for (QAction *a : m_window->findChildren<QAction *>())
        if (a->text() == u"&New database…"_s)
            create = a;
    QVERIFY(create);
    QSignalSpy requested(m_window.get(), &MainWindow::newDatabaseRequested);
    // Through the real file dialog: a new name is asked for.
    const QString fresh = m_dir.filePath(u"new-campaign.db"_s);
    whenModal<QFileDialog>(this, [fresh](QFileDialog *dialog) {
        typeFileName(dialog, fresh);
    });
    create->trigger();
    QTRY_COMPARE(requested.size(), 1);
    QCOMPARE(requested.first().at(0).toString(), fresh);
    // An existing database is never taken for a new one: it is said, and nothing is asked for.
    const QString existing = m_dir.filePath(u"notes.db"_s);
    {
        QFile f(existing);
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write("the DM's notes, not a database\n") > 0);
    }
    bool told = false;
    whenModal<QFileDialog>(this, [this, existing, &told](QFileDialog *dialog) {
        whenModal<QMessageBox>(this, [&told](QMessageBox *box) {
            told = box->text().contains(u"already exists"_s);
            box->buttons().constFirst()->click();
        });
        typeFileName(dialog, existing);
    });
    create->trigger();
    QVERIFY(told);
    QCOMPARE(requested.size(), 1);
    QFile notes(existing);
    QVERIFY(notes.open(QIODevice::ReadOnly));
    QCOMPARE(notes.readAll(), QByteArray("the DM's notes, not a database\n"));
}

void TestMainWindow::exportingTheFilteredRows()
{
    // Every matching row, not only the loaded window: a small window forces paging.
    EventLogModel *model = m_window->model();
    QComboBox *world = m_window->worldFilter();
    world->setCurrentIndex(world->findData(u"Sunken Isles"_s));
    Q_EMIT world->activated(world->currentIndex());
    QTRY_VERIFY(model->matchingCount() > 0);
    const qint64 matching = model->matchingCount();
    QSignalSpy exported(m_window.get(), &MainWindow::exported);
    const QString jsonl = m_dir.filePath(u"sunken.jsonl"_s);
    m_window->exportFiltered(jsonl);
    QTRY_COMPARE(exported.size(), 1);
    QCOMPARE(exported.first().at(0).toLongLong(), matching);
    QFile f(jsonl);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), matching);
    for (const QByteArray &line : lines)
        QCOMPARE(QJsonDocument::fromJson(line).object()[u"event"_s].toObject()[u"world_id"_s].toString(), u"Sunken Isles"_s);

    const QString csv = m_dir.filePath(u"sunken.csv"_s);
    m_window->exportFiltered(csv);
    QTRY_COMPARE(exported.size(), 2);
    QFile c(csv);
    QVERIFY(c.open(QIODevice::ReadOnly));
    const QByteArray text = c.readAll();
    QVERIFY(text.startsWith("id,"));
    QCOMPARE(text.trimmed().split('\n').size(), matching + 1);  // the header, then a row each

    // A path that cannot be written: a message, no crash, nothing half-written.
    m_window->exportFiltered(m_dir.filePath(u"no/such/folder/x.jsonl"_s));
    QCOMPARE(exported.size(), 2);
    world->setCurrentIndex(0);
    Q_EMIT world->activated(0);
    QTRY_VERIFY(model->rowCount() > 100);
}

void TestMainWindow::timeRangeFilter()
{
    EventLogModel *model = m_window->model();
    QComboBox *since = m_window->timeFilter();
    const qint64 before = model->rowCount();
    QSignalSpy reloaded(model, &EventLogModel::loaded);
    since->setCurrentIndex(since->findData(15 * 60));
    Q_EMIT since->activated(since->currentIndex());
    // Everything here was just written: all of it is within 15 minutes (checked
    // once the filtered page is in, not before).
    QTRY_COMPARE(model->query().createdFrom.has_value(), true);
    QTRY_VERIFY(reloaded.size() >= 1);
    QCOMPARE(model->rowCount(), before);
    // An event from last year is outside it.
    QVERIFY(await(m_store->appendRaw({{u"StoryEventCreated"_s,
                                       QByteArray(R"({"type":"StoryEventCreated","story_event_id":"old","world_id":"Ravenmoor","event_type":"x"})")}}))
                .ok());
    QVERIFY(await(m_store->write([](SqliteConnection &conn) {
                      return conn.exec(u"UPDATE app_events SET created_at = '2025-01-01T00:00:00.000Z' WHERE payload LIKE '%\"old\"%'"_s);
                  }))
                .ok());
    EventQuery all;
    all.createdFrom = model->query().createdFrom;
    QCOMPARE(await(m_store->count(all)).value(), before);
    since->setCurrentIndex(0);
    Q_EMIT since->activated(0);
    QTRY_VERIFY(!model->query().createdFrom.has_value());
}

void TestMainWindow::editingChallenges()
{
    ChallengesDialog dialog(*m_store->desk(), {u"Ravenmoor"_s, u"Sunken Isles"_s}, u"Ravenmoor"_s, m_window.get());
    QTableWidget *table = dialog.table();
    QTRY_COMPARE(table->rowCount(), 1);  // "Pick the lock", from initTestCase
    dialog.addChallenge(u"Swim the strait"_s, 14);
    QTRY_COMPARE(table->rowCount(), 2);
    // Rename and raise the DC through the table, as the DM would.
    int row = -1;
    for (int r = 0; r < table->rowCount(); ++r)
        if (table->item(r, 0)->text() == u"Swim the strait"_s)
            row = r;
    QVERIFY(row >= 0);
    table->item(row, 0)->setText(u"Swim the stormy strait"_s);
    qobject_cast<QSpinBox *>(table->cellWidget(row, 1))->setValue(18);
    QTRY_VERIFY([&] {
        const auto list = await(m_store->desk()->challenges(u"Ravenmoor"_s)).value();
        return std::any_of(list.begin(), list.end(), [](const Challenge &c) { return c.name == u"Swim the stormy strait"_s && c.difficulty == 18; });
    }());
    // Remove it again.
    table->selectRow(row);
    auto *remove = dialog.findChildren<QPushButton *>().at(1);
    QCOMPARE(remove->text(), tr("&Remove"));
    remove->click();
    QTRY_COMPARE(await(m_store->desk()->challenges(u"Ravenmoor"_s))->size(), 1);
    QTRY_COMPARE(table->rowCount(), 1);
    QTRY_VERIFY([&] {
        const auto audit = await(m_store->desk()->auditLog(20)).value();
        return std::any_of(audit.begin(), audit.end(), [](const AuditEntry &a) { return a.action == u"challenge edit"_s; });
    }());
}

void TestMainWindow::notificationsTheDmPicks()
{
    QCOMPARE(m_window->notifyKinds(), (QList<EventKind>{EventKind::GenerationBatchFailed, EventKind::SuggestionFailed}));
    m_window->setNotifyKinds({EventKind::ChallengeResolved});
    QCOMPARE(QSettings().value(u"notify/kinds"_s).toStringList(), QStringList{u"ChallengeResolved"_s});
    m_window->setNotifyKinds({EventKind::GenerationBatchFailed, EventKind::SuggestionFailed});
}

void TestMainWindow::lockedDatabaseKeepsTheWindowAlive()
{
    // Another process holds the database exclusively for 3 s while the DM publishes.
    QProcess *holder = test::startPython(
        u"import sqlite3,sys,time\n"
        "c=sqlite3.connect(sys.argv[1],isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked',flush=True)\n"
        "time.sleep(3)\n"
        "c.execute('COMMIT')\n"_s,
        {m_store->location()}, this);
    QVERIFY(holder->waitForReadyRead(10000));
    QLabel *waiting = m_window->writesWaitingLabel();
    // Repaints counted while the publish waits: a frozen window would paint once, after.
    int paintsWhileWaiting = 0;
    QFuture<PublishResult> published = m_bus->publish(events::StoryEventCreated{u"held"_s, u"Ravenmoor"_s, u"dialogue"_s});
    QTimer tick;
    connect(&tick, &QTimer::timeout, this, [&] {
        m_window->repaint();
        if (!published.isFinished())
            ++paintsWhileWaiting;
    });
    tick.start(20);
    QTRY_VERIFY(waiting->isVisible());
    QVERIFY(waiting->text().contains(u"locked"_s));
    QVERIFY(!published.isFinished());
    QTRY_VERIFY_WITH_TIMEOUT(published.isFinished(), 10000);
    QVERIFY2(published.result().ok(), test::why(published.result()).constData());
    QTRY_VERIFY(!waiting->isVisible());
    holder->waitForFinished();
    // The event loop kept turning while writes waited.
    QVERIFY2(paintsWhileWaiting >= 5, QByteArray::number(paintsWhileWaiting).constData());
}

void TestMainWindow::pruningWithAPreview()
{
    // On a copy of its own, so the other tests keep their rows.
    QTemporaryDir dir;
    SqliteEventStore book(SqliteOptions{dir.filePath(u"prune.db"_s)});
    QVERIFY(book.openAndWait().ok());
    QList<std::pair<QString, QByteArray>> rows;
    for (int i = 0; i < 12; ++i)
        rows.append({u"StoryEventCreated"_s, QByteArray(R"({"type":"StoryEventCreated","story_event_id":"s","world_id":"w","event_type":"x"})")});
    QVERIFY(await(book.appendRaw(rows)).ok());
    QVERIFY(await(book.write([](SqliteConnection &conn) {
                      return conn.exec(u"UPDATE app_events SET created_at = '2024-01-01T00:00:00.000Z', processed = (id <= 8)"_s);
                  })).ok());
    LogRetention retention(book);
    PruneDialog dialog(retention, m_window.get());
    QTRY_COMPARE(dialog.previewCount(), 8);
    QVERIFY(dialog.preview()->text().contains(u"4 older one"_s));
    QVERIFY(dialog.pruneButton()->isEnabled());
    dialog.force()->setChecked(true);
    QTRY_COMPARE(dialog.previewCount(), 12);
    dialog.force()->setChecked(false);
    QTRY_COMPARE(dialog.previewCount(), 8);
    QCOMPARE(await(book.count({})).value(), 12);  // a preview deletes nothing
    QSignalSpy pruned(&dialog, &PruneDialog::pruned);
    dialog.pruneNow();
    QTRY_COMPARE(pruned.size(), 1);
    QCOMPARE(await(book.count({})).value(), 4);
    const QString archive = pruned.first().at(0).value<PruneReport>().archivePath;
    QCOMPARE(readArchive(archive)->size(), 8);
}

void TestMainWindow::duplicateAndEditThroughTheTriggerForm()
{
    // The DM selects a roll and presses Trigger: the form opens on it, in words.
    EventLogModel *model = m_window->model();
    int row = -1;
    for (int r = model->rowCount() - 1; r >= 0 && row < 0; --r)
        if (model->eventAt(r)->eventType == u"ChallengeResolved"_s)
            row = r;
    QVERIFY(row >= 0);
    const auto original = *model->eventAt(row)->event->as<events::ChallengeResolved>();
    m_window->view()->selectRow(row);
    QAction *trigger = nullptr;
    for (QAction *a : m_window->findChildren<QAction *>())
        if (a->text() == u"&Trigger an event…"_s)
            trigger = a;
    QVERIFY(trigger);
    bool checked = false;
    whenModal<TriggerDialog>(this, [&](TriggerDialog *dialog) {
        auto *name = dialog->findChild<QLineEdit *>(u"challenge_name"_s);
        QVERIFY(name);
        QCOMPARE(name->text(), original.challengeName);
        const auto labels = dialog->findChildren<QLabel *>();
        QVERIFY(std::any_of(labels.begin(), labels.end(), [](QLabel *l) { return l->text() == u"Challenge name *"_s; }));
        QAbstractButton *publish = nullptr;
        for (QAbstractButton *b : dialog->findChildren<QDialogButtonBox *>().first()->buttons())
            if (b->text() == u"Publish"_s)
                publish = b;
        QVERIFY(publish && publish->isEnabled());
        // Cleared: said at once, beside the field's own words; Publish waits.
        name->clear();
        QVERIFY(!publish->isEnabled());
        QVERIFY(std::any_of(labels.begin(), labels.end(), [](QLabel *l) { return l->text().contains(u"Challenge name"_s) && l->text().contains(u"required"_s); }));
        name->setText(u"Force the portcullis again"_s);
        QVERIFY(publish->isEnabled());
        checked = true;
        publish->click();
    });
    trigger->trigger();
    QTRY_VERIFY(checked);
    QTRY_VERIFY(model->eventAt(model->rowCount() - 1)->eventType == u"ChallengeResolved"_s
                && model->eventAt(model->rowCount() - 1)->event->as<events::ChallengeResolved>()->challengeName
                       == u"Force the portcullis again"_s);
    const auto copy = *model->eventAt(model->rowCount() - 1)->event->as<events::ChallengeResolved>();
    QCOMPARE(copy.characterId, original.characterId);
    QCOMPARE(copy.worldId, original.worldId);
    QCOMPARE(copy.roll, original.roll);
    m_window->view()->clearSelection();
    m_window->setFollowing(true);
}

void TestMainWindow::triggeringThroughTheForm()
{
    TriggerDialog dialog(*m_bus, u"Ravenmoor"_s, m_window.get());
    dialog.setVariant(EventKind::ChallengeResolved);
    // A missing required field is refused before publishing.
    dialog.setField(u"challenge_name"_s, QString());
    dialog.setField(u"character_id"_s, u"pc1"_s);
    QVERIFY(!dialog.event().ok());
    QCOMPARE(dialog.event().error().field, u"challenge_name"_s);
    dialog.setField(u"challenge_name"_s, u"Force the portcullis"_s);
    dialog.setField(u"success"_s, true);
    QVERIFY(dialog.event().ok());
    QSignalSpy published(&dialog, &TriggerDialog::published);
    dialog.publish();
    QTRY_COMPARE(published.size(), 1);
    const qint64 id = published.first().first().toLongLong();
    EventLogModel *model = m_window->model();
    QTRY_COMPARE(model->eventAt(model->rowCount() - 1)->id, id);  // appears live in the log
    QCOMPARE(model->eventAt(model->rowCount() - 1)->event->summary(), u"pc1 succeeded at Force the portcullis"_s);
}

void TestMainWindow::hostingAndKicking()
{
    m_server->setListenAddress(QHostAddress::LocalHost, 0);
    QVERIFY(m_server->listen().ok());
    QWebSocket player;
    QSignalSpy connected(&player, &QWebSocket::connected);
    player.open(m_server->url());
    QVERIFY(connected.wait(5000));
    player.sendTextMessage(QString::fromUtf8(QJsonDocument(QJsonObject{
        {u"type"_s, u"Join"_s}, {u"role"_s, u"player"_s}, {u"world_id"_s, u"Ravenmoor"_s}, {u"name"_s, u"Alice"_s},
        {u"join_code"_s, u"RAVEN7K3"_s}}).toJson(QJsonDocument::Compact)));
    QTableWidget *clients = m_window->sessionPanel()->clientTable();
    QTRY_COMPARE(clients->rowCount(), 1);
    QCOMPARE(clients->item(0, 0)->text(), u"Alice"_s);
    QCOMPARE(clients->item(0, 2)->text(), u"Ravenmoor"_s);
    saveShot(u"session"_s);

    // View as Alice: exactly what she receives, said in a banner; Esc leaves it.
    const auto button = [this](const QString &text) {
        for (QPushButton *b : m_window->sessionPanel()->findChildren<QPushButton *>())
            if (b->text() == text)
                return b;
        return static_cast<QPushButton *>(nullptr);
    };
    EventLogModel *model = m_window->model();
    const EventQuery before = model->query();
    clients->selectRow(0);
    button(u"View as"_s)->click();
    QVERIFY(m_window->viewAsBanner()->isVisible());
    QVERIFY2(m_window->viewAsBanner()->text().contains(u"Alice"_s) && m_window->viewAsBanner()->text().contains(u"player"_s),
             qPrintable(m_window->viewAsBanner()->text()));
    QCOMPARE(model->query().worlds, QStringList{u"Ravenmoor"_s});
    QVERIFY(!model->query().kinds.contains(EventKind::GenerationBatchQueued));  // players do not get jobs
    QTRY_VERIFY(!model->isLoading() && model->rowCount() > 0);
    for (int r = 0; r < model->rowCount(); ++r)
        QVERIFY(session::mayReceive(session::Role::Player, u"Ravenmoor"_s, *model->eventAt(r)->event));
    QApplication::setActiveWindow(m_window.get());  // as the DM's click back on the window does
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    QTest::keyClick(m_window.get(), Qt::Key_Escape);
    QVERIFY(!m_window->viewAsBanner()->isVisible());
    QCOMPARE(model->query(), before);
    // A filter changed while viewing as a client ends that view, visibly.
    button(u"View as"_s)->click();
    QVERIFY(m_window->viewAsBanner()->isVisible());
    QComboBox *since = m_window->findChildren<QComboBox *>().at(2);
    Q_EMIT since->activated(since->currentIndex());
    QVERIFY(!m_window->viewAsBanner()->isVisible());
    QVERIFY(m_window->statusBar()->currentMessage().contains(u"view as"_s));

    // Kick asks first: Cancel keeps her, Kick removes her.
    QSignalSpy closed(&player, &QWebSocket::disconnected);
    clients->selectRow(0);
    whenModal<QMessageBox>(this, [](QMessageBox *box) {
        QVERIFY(box->text().contains(u"Alice"_s));
        box->button(QMessageBox::Cancel)->click();
    });
    QVERIFY(!m_window->sessionPanel()->kickSelected());
    QVERIFY(!closed.wait(300));
    // Quitting and stopping ask too while she is connected, naming how many.
    bool askedToQuit = false;
    whenModal<QMessageBox>(this, [&askedToQuit](QMessageBox *box) {
        askedToQuit = box->text().contains(u"1 player"_s);
        box->button(QMessageBox::Cancel)->click();
    });
    m_window->close();
    QVERIFY(askedToQuit);
    QVERIFY(m_window->isVisible());
    whenModal<QMessageBox>(this, [](QMessageBox *box) { box->button(QMessageBox::Cancel)->click(); });
    QVERIFY(!m_window->sessionPanel()->stopHosting());
    QVERIFY(m_server->isListening());
    whenModal<QMessageBox>(this, [](QMessageBox *box) {
        for (QAbstractButton *b : box->buttons())
            if (b->text() == u"Kick"_s)
                b->click();
    });
    QVERIFY(m_window->sessionPanel()->kickSelected());
    QVERIFY(closed.wait(5000));
    QCOMPARE(int(player.closeCode()), 1008);
    QTRY_COMPARE(clients->rowCount(), 0);
}

void TestMainWindow::screenshots()
{
    QTableView *view = m_window->view();
    m_window->statusBar()->clearMessage();  // what earlier tests left there is not part of the picture
    view->selectRow(m_window->model()->rowCount() - 3);
    QTRY_VERIFY(!view->selectionModel()->selectedRows().isEmpty());
    saveShot(u"main-window"_s);
}

void TestMainWindow::saveShot(const QString &name)
{
    QApplication::processEvents();
    const QString dir = qEnvironmentVariable("EVENTDESK_SCREENSHOT_DIR", QDir::currentPath() + u"/screenshots"_s);
    QDir().mkpath(dir);
    const QString path = dir + u'/' + name + u".png"_s;
    QVERIFY(m_window->grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
