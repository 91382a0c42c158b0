// The engine's file and the window (DESIGN §4): the window opens an engine
// database, follows the engine's rows, filters and closes without changing a
// byte; a read-only log is shown read-only; filters are remembered per
// database; an empty log says what to do.
#include "Banners.h"
#include "BusNotifier.h"
#include "EngineFile.h"
#include "EventLogModel.h"
#include "MainWindow.h"
#include "QuickActions.h"
#include "Retention.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"
#include "TaskProgress.h"
#include "TestSupport.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTimer>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using namespace eventdesk::test;

class TestEngineWindow : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString path(const QString &name) { return m_dir.filePath(name); }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        QVERIFY(m_dir.isValid());
    }
    void windowLeavesTheFileAlone();
    void windowOnAReadOnlyLog();
    void filtersAreRememberedPerDatabase();
    void anEmptyLogSaysWhatToDo();
    void aBigFirstOpenCanBeCancelled();
};

void TestEngineWindow::windowLeavesTheFileAlone()
{
    const QString db = path(u"window.db"_s);
    Engine engine(db);
    engine.add(4000);
    const Fingerprint before = fingerprint(db);
    {
        SqliteOptions o;
        o.path = db;
        o.dataVersionPollMs = 50;
        SqliteEventStore store(o);
        QVERIFY2(store.openAndWait().ok(), "open");
        BusNotifier notifier(0);
        QObject::connect(&store, &SqliteEventStore::externalRowsDetected, &notifier, &BusNotifier::externalRowsDetected);
        StoreEventBus bus(store, notifier);
        LogRetention retention(store);
        QSignalSpy progress(&store, &LogWatch::indexProgress);
        store.startIndexing();
        MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, &retention, nullptr, db});
        window.show();
        QTRY_VERIFY(window.model()->rowCount() > 0);
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty() && progress.last().at(0).toLongLong() == 4000, 20000);
        QCOMPARE(fingerprint(db), before);

        // The engine writes; the window follows and filters; nothing of it reaches the file.
        engine.add(25);
        const Fingerprint afterEngine = fingerprint(db);
        window.setFollowing(true);
        QTRY_VERIFY_WITH_TIMEOUT(window.model()->eventAt(window.model()->rowCount() - 1)
                                     && window.model()->eventAt(window.model()->rowCount() - 1)->id == 4025, 10000);
        QComboBox *world = window.worldFilter();
        QTRY_VERIFY(world->findData(worldUuid(2)) >= 0);
        world->setCurrentIndex(world->findData(worldUuid(2)));
        Q_EMIT world->activated(world->currentIndex());
        QTRY_VERIFY(window.model()->matchingCount() > 0);
        QCOMPARE(window.model()->matchingCount(), await(store.count(window.model()->query())).value());
        window.close();
        QCOMPARE(fingerprint(db), afterEngine);
    }
    const Fingerprint closed = fingerprint(db);
    QCOMPARE(closed.schema, before.schema);
    QCOMPARE(closed.journal, u"delete"_s);
}

void TestEngineWindow::windowOnAReadOnlyLog()
{
    const QString db = path(u"window-ro.db"_s);
    {
        Engine engine(db);
        engine.add(50);
    }
    const Fingerprint before = fingerprint(db);
    SqliteOptions o;
    o.path = db;
    o.readOnly = true;  // what the composition root does for a file it cannot write
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);
    MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, nullptr, nullptr, db});
    window.show();
    QTRY_COMPARE(window.model()->rowCount(), 50);
    QVERIFY(window.windowTitle().contains(u"read-only"_s));
    for (QAction *menu : window.menuBar()->actions()) {
        if (!menu->menu() || !menu->isEnabled())
            continue;
        for (QAction *a : menu->menu()->actions()) {
            QVERIFY2(!a->text().contains(u"Prune"_s), "no prune on a read-only log");
            if (a->text().contains(u"Trigger"_s) || a->text().contains(u"Re-publish"_s))
                QVERIFY2(!a->isEnabled(), qPrintable(a->text()));
        }
    }
    QVERIFY(!window.quickActions()->menu()->menuAction()->isEnabled());
    const Result<QList<qint64>> published = await(bus.publishBatch({sampleEvent(EventKind::StoryEventCreated, true)}));
    QVERIFY(!published.ok());
    QVERIFY2(published.error().message.contains(u"read-only"_s), qPrintable(published.error().message));
    window.close();
    QCOMPARE(fingerprint(db), before);
}

void TestEngineWindow::filtersAreRememberedPerDatabase()
{
    // A world chosen in one campaign's log is restored there, and nowhere else.
    const QString first = path(u"filters-a.db"_s);
    const QString second = path(u"filters-b.db"_s);
    for (const QString &db : {first, second}) {
        Engine engine(db);
        engine.add(60);
    }
    auto openWindow = [](const QString &db, auto &&check) {
        SqliteOptions o;
        o.path = db;
        SqliteEventStore store(o);
        QVERIFY(store.openAndWait().ok());
        BusNotifier notifier(0);
        StoreEventBus bus(store, notifier);
        MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, nullptr, nullptr, db});
        window.show();
        QTRY_VERIFY(window.worldFilter()->findData(worldUuid(2)) >= 0);
        check(window);
        window.close();
    };
    openWindow(first, [](MainWindow &window) {
        QComboBox *world = window.worldFilter();
        world->setCurrentIndex(world->findData(worldUuid(2)));
        Q_EMIT world->activated(world->currentIndex());
        QTRY_VERIFY(window.model()->matchingCount() > 0 && window.model()->matchingCount() < 60);
    });
    openWindow(second, [](MainWindow &window) {
        QCOMPARE(window.worldFilter()->currentData().toString(), QString());
        QTRY_COMPARE(window.model()->rowCount(), 60);
    });
    openWindow(first, [](MainWindow &window) {
        QCOMPARE(window.worldFilter()->currentData().toString(), worldUuid(2));
        QTRY_VERIFY(window.model()->matchingCount() > 0 && window.model()->matchingCount() < 60);
    });
}

void TestEngineWindow::anEmptyLogSaysWhatToDo()
{
    SqliteOptions o;
    o.path = path(u"empty.db"_s);
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);
    MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, nullptr, nullptr, o.path});
    window.show();
    QTRY_VERIFY(window.emptyState()->isVisible());
    QCOMPARE(window.emptyState()->title(), u"No events yet"_s);
    // Its "Play a demo session" link asks first, then plays through the producers.
    bool asked = false;
    std::function<void()> answer = [&] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box) {
            QTimer::singleShot(20, answer);
            return;
        }
        asked = box->text().contains(u"empty.db"_s);
        for (QAbstractButton *b : box->buttons())
            if (b->text() == u"Play"_s)
                b->click();
    };
    QTimer::singleShot(20, answer);
    Q_EMIT window.emptyState()->linkActivated(u"#demo"_s);
    QVERIFY(asked);
    // The first events replace the advice with the log.
    QTRY_VERIFY_WITH_TIMEOUT(window.model()->rowCount() > 0, 10000);
    QTRY_VERIFY(!window.emptyState()->isVisible());
    QVERIFY(window.view()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(window.worldFilter()->findText(u"Ravenmoor"_s) >= 0, 15000);  // listed live, by its display name
    // Stopped from the Events menu; its jobs finish, and it says so.
    QAction *stop = nullptr;
    for (QAction *a : window.findChildren<QAction *>())
        if (a->text() == u"Stop the &demo session"_s)
            stop = a;
    QVERIFY(stop);
    stop->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(stop->text() == u"Play a &demo session…"_s, 15000);
}

// The first open of a long engine log builds the row index with a bar and
// Cancel in the status bar; Cancel pauses the build (the filters still answer,
// from the log itself), and the next open resumes it.
void TestEngineWindow::aBigFirstOpenCanBeCancelled()
{
    const QString db = path(u"big.db"_s);
    {
        Engine engine(db);
        engine.add(150000);
    }
    SqliteOptions o;
    o.path = db;
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);
    store.desk()->setIndexRate(20000);  // a disk the engine is busy with: the build takes a while
    MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, nullptr, nullptr, db});
    window.show();
    store.startIndexing();
    QTRY_VERIFY_WITH_TIMEOUT(window.indexProgress()->isRunning() && window.indexProgress()->isVisible(), 10000);
    window.indexProgress()->cancelButton()->click();
    QVERIFY(!window.indexProgress()->isRunning());
    QTRY_COMPARE(window.indexLabel()->text(), u"Index paused"_s);
    const qint64 pausedAt = store.desk()->indexedTo();
    QVERIFY(pausedAt < 150000);
    // The filters still answer, from the log itself.
    QComboBox *world = window.worldFilter();
    if (world->findData(worldUuid(2)) < 0)
        world->addItem(worldUuid(2), worldUuid(2));
    world->setCurrentIndex(world->findData(worldUuid(2)));
    Q_EMIT world->activated(world->currentIndex());
    const qint64 expected = scalar(db, "SELECT count(*) FROM app_events WHERE json_valid(payload) AND "
                                       "json_extract(payload, '$.world_id') = '00000000-0000-4000-8000-000000000002'");
    QTRY_COMPARE_WITH_TIMEOUT(window.model()->matchingCount(), expected, 20000);
    QVERIFY(store.desk()->indexedTo() <= pausedAt + 2000);  // at most the chunk under way when it paused
    window.close();
}

QTEST_MAIN(TestEngineWindow)
#include "tst_enginewindow.moc"
