// A monkey at the DM's table: random shortcuts, clicks and keystrokes on the
// window — into whatever menu or dialog is open — while the game publishes
// live events and a player is connected. It must end with no crash; built with
// -DEVENTDESK_SANITIZE=ON (the test command does), with no sanitizer report.
//
//   EVENTDESK_MONKEY_SECONDS  how long (default 30; 120 for a long run)
//   EVENTDESK_MONKEY_SEED     the random seed (printed, so a failure can be replayed)
#include "BusNotifier.h"
#include "EventLogModel.h"
#include "MainWindow.h"
#include "Producers.h"
#include "Projector.h"
#include "Retention.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"

#include <QApplication>
#include <QDialog>
#include <QDir>
#include <QElapsedTimer>
#include <QMenu>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QWebSocket>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using namespace eventdesk::test;

class TestMonkey : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void randomUseWhileTheGameRuns();

private:
    QWidget *target() const;
    void act();

    MainWindow *m_window = nullptr;
    QRandomGenerator m_rng;
    qint64 m_actions = 0;
    QMap<QString, int> m_seen;  // dialogs and menus acted on, by class
};

// Where a user's input would go now: an open menu, else the top dialog, else the window.
QWidget *TestMonkey::target() const
{
    if (QWidget *popup = QApplication::activePopupWidget())
        return popup;
    if (QWidget *modal = QApplication::activeModalWidget())
        return modal;
    return m_window;
}

void TestMonkey::act()
{
    ++m_actions;
    if (!m_window->isVisible())
        m_window->show();  // the monkey quit (File → Quit): the DM opens it again
    QWidget *w = target();
    if (w != m_window)
        ++m_seen[QString::fromLatin1(w->metaObject()->className())];
    const int dice = int(m_rng.bounded(100));
    if (dice < 35) {
        // A shortcut or a navigation key. Never Ctrl+Q: quitting is covered by the confirm test.
        static const QList<QKeyCombination> keys = {
            Qt::CTRL | Qt::Key_T, Qt::CTRL | Qt::Key_D, Qt::CTRL | Qt::Key_R, Qt::CTRL | Qt::Key_H,
            Qt::CTRL | Qt::Key_F, Qt::CTRL | Qt::Key_L, Qt::CTRL | Qt::Key_E, Qt::CTRL | Qt::Key_N,
            Qt::CTRL | Qt::Key_O, QKeyCombination(Qt::Key_Escape), QKeyCombination(Qt::Key_Return),
            QKeyCombination(Qt::Key_Tab), QKeyCombination(Qt::Key_Space), QKeyCombination(Qt::Key_Up),
            QKeyCombination(Qt::Key_Down), QKeyCombination(Qt::Key_PageUp), QKeyCombination(Qt::Key_PageDown),
            Qt::CTRL | Qt::Key_Home, Qt::CTRL | Qt::Key_End, QKeyCombination(Qt::Key_Delete),
            QKeyCombination(Qt::Key_Backspace), Qt::SHIFT | Qt::Key_Tab, Qt::ALT | Qt::Key_F, Qt::ALT | Qt::Key_E};
        const QKeyCombination k = keys.at(int(m_rng.bounded(int(keys.size()))));
        QWidget *focus = QApplication::focusWidget();
        QTest::keyClick(focus && w->isAncestorOf(focus) ? focus : w, k.key(), k.keyboardModifiers());
    } else if (dice < 55) {
        // A few characters typed where the focus is.
        static const QString letters = u"abcdefghijklmnopqrstuvwxyz 0123456789-'"_s;  // QTest types ASCII only
        QString text;
        for (int i = 0, n = 1 + int(m_rng.bounded(6)); i < n; ++i)
            text += letters.at(int(m_rng.bounded(int(letters.size()))));
        QWidget *focus = QApplication::focusWidget();
        QTest::keyClicks(focus && w->isAncestorOf(focus) ? focus : w, text);
    } else if (dice < 97) {
        // A click somewhere on what is in front.
        const QPoint at(int(m_rng.bounded(std::max(1, w->width()))), int(m_rng.bounded(std::max(1, w->height()))));
        QWidget *child = w->childAt(at);
        QWidget *under = child ? child : w;
        const QPoint local = under->mapFrom(w, at);
        const int how = int(m_rng.bounded(10));
        if (how == 0)
            QTest::mouseDClick(under, Qt::LeftButton, {}, local);
        else if (how == 1)
            QTest::mouseClick(under, Qt::RightButton, {}, local);
        else
            QTest::mouseClick(under, Qt::LeftButton, {}, local);
    } else if (w == m_window) {
        // The DM resizes the window, down to a small laptop screen.
        m_window->resize(800 + int(m_rng.bounded(800)), 560 + int(m_rng.bounded(440)));
    }
}

void TestMonkey::randomUseWhileTheGameRuns()
{
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QDir::setCurrent(dir.path());  // whatever the file dialogs save lands here
    const int seconds = qEnvironmentVariableIntValue("EVENTDESK_MONKEY_SECONDS") > 0
        ? qEnvironmentVariableIntValue("EVENTDESK_MONKEY_SECONDS") : 30;
    const quint32 seed = qEnvironmentVariableIsSet("EVENTDESK_MONKEY_SEED")
        ? quint32(qEnvironmentVariableIntValue("EVENTDESK_MONKEY_SEED")) : QRandomGenerator::system()->generate();
    m_rng.seed(seed);
    qInfo("monkey: %d s, seed %u (EVENTDESK_MONKEY_SEED=%u replays it)", seconds, seed, seed);

    SqliteOptions o;
    o.path = dir.filePath(u"table.db"_s);
    SqliteEventStore store(o);
    QVERIFY(store.openAndWait().ok());
    BusNotifier notifier(0);
    StoreEventBus bus(store, notifier);
    QVERIFY(await(store.desk()->addChallenge(u"Ravenmoor"_s, u"Pick the lock"_s, 15)).ok());
    QVERIFY(await(store.desk()->addChallenge(u"Sunken Isles"_s, u"Swim the strait"_s, 12)).ok());
    SessionConfig config;
    config.port = 0;
    config.joinCode = u"RAVEN7K3"_s;
    SessionServer server(store, bus, notifier, store.desk(), config);
    Projector projector(store, notifier, *store.desk());
    projector.start();
    LogRetention retention(store);
    {
        MainWindow window(MainWindowDeps{store, bus, notifier, store.desk(), &store, &retention, &server, o.path, &projector});
        m_window = &window;
        window.resize(1280, 780);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        // The game: a story beat or a roll every 40 ms, in two worlds.
        StoryEventService story(bus);
        ChallengeService challenges(bus, seed);
        int beat = 0;
        QTimer game;
        connect(&game, &QTimer::timeout, this, [&] {
            const QString world = beat % 2 ? u"Ravenmoor"_s : u"Sunken Isles"_s;
            if (beat % 3)
                story.record(world, StoryKind(beat % StoryKindCount));
            else
                challenges.resolve(std::nullopt, u"Pick the lock"_s, world, u"pc%1"_s.arg(beat % 4), 12, 1);
            ++beat;
        });
        game.start(40);
        // A player at the table, so that Kick, Stop and Quit have someone to ask about
        // (in a world the DM opens for hosting: its first event may not be written yet).
        server.openWorld(u"Ravenmoor"_s);
        QVERIFY(server.listen().ok());
        QWebSocket player;
        player.open(server.url());
        QTRY_VERIFY(player.state() == QAbstractSocket::ConnectedState);
        player.sendTextMessage(uR"({"type":"Join","role":"player","world_id":"Ravenmoor","name":"Alice","join_code":")"_s
                               + server.joinCodeFor(u"Ravenmoor"_s) + uR"("})"_s);
        QTRY_VERIFY(server.clientCount() == 1);

        // Each act is queued, never run inside the timer: an act that opens a
        // dialog blocks in the dialog's loop, where the timer goes on acting on it.
        QTimer monkey;
        connect(&monkey, &QTimer::timeout, this, [this] { QMetaObject::invokeMethod(this, &TestMonkey::act, Qt::QueuedConnection); });
        monkey.start(15);
        QElapsedTimer clock;
        clock.start();
        // The monkey's time is the point here: the loop turns (acts, game, dialogs) until it is up.
        QVERIFY(QTest::qWaitFor([&] { return clock.hasExpired(seconds * 1000); }, seconds * 1000 + 5000));
        monkey.stop();
        game.stop();

        // Close whatever is still open, innermost first, as the DM would with Esc.
        for (int i = 0; i < 200 && (QApplication::activePopupWidget() || QApplication::activeModalWidget()); ++i) {
            if (QWidget *popup = QApplication::activePopupWidget())
                popup->close();
            else if (auto *dialog = qobject_cast<QDialog *>(QApplication::activeModalWidget()))
                QMetaObject::invokeMethod(dialog, &QDialog::reject, Qt::QueuedConnection);
            else
                QApplication::activeModalWidget()->close();
            // Until that one has gone (or another opened in its place).
            const QWidget *front = QApplication::activePopupWidget() ? QApplication::activePopupWidget()
                                                                     : QApplication::activeModalWidget();
            const bool gone = QTest::qWaitFor([front] {
                return QApplication::activePopupWidget() != front && QApplication::activeModalWidget() != front;
            }, 2000);
            Q_UNUSED(gone)  // one that stays is tried again; the check below says if any is left
        }
        QVERIFY(!QApplication::activeModalWidget());
        QStringList seen;
        for (auto it = m_seen.cbegin(); it != m_seen.cend(); ++it)
            seen << u"%1 %2"_s.arg(it.key()).arg(it.value());
        qInfo("monkey: %lld acts, %d game events; acts inside: %s", m_actions, beat, qPrintable(seen.join(u", "_s)));

        // The window still works: it shows the log and follows it.
        window.show();
        QVERIFY(m_actions > seconds * 10);
        QTRY_VERIFY_WITH_TIMEOUT(window.model()->matchingCount() >= 0 && !window.model()->isLoading(), 10000);
        m_window = nullptr;
    }
}

QTEST_MAIN(TestMonkey)
#include "tst_monkey.moc"
