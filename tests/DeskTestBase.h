// What the window suites share: a game in progress (two worlds, story beats,
// rolls, narrative events and generation jobs, through the producers), the
// session server, projections and retention, and the window over them; and
// helpers that answer the real modal dialogs as a DM would.
#pragma once

#include "Banners.h"
#include "BusNotifier.h"
#include "ChallengesDialog.h"
#include "DesktopNotifier.h"
#include "EventLogModel.h"
#include "Ids.h"
#include "MainWindow.h"
#include "Producers.h"
#include "Projector.h"
#include "PruneDialog.h"
#include "QuickActions.h"
#include "Retention.h"
#include "ImportFile.h"
#include "Metrics.h"
#include "Webhooks.h"
#include "SessionPanel.h"
#include "SessionServer.h"
#include "SqliteEventStore.h"
#include "TestSupport.h"
#include "TriggerDialog.h"
#include "TypeFilter.h"

#include <QApplication>
#include <QMenu>
#include <QDialogButtonBox>
#include <QInputDialog>
#include <QElapsedTimer>
#include <QProcess>
#include <QSettings>
#include <QTcpServer>
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
#include <QTreeWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QToolButton>
#include <QWebSocket>

using namespace Qt::StringLiterals;
using namespace eventdesk;
using test::await;

// A port on 127.0.0.1 nobody listens on right now (0 if none could be had).
inline quint16 freeLocalPort()
{
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 0;
}

// Runs act on the next modal dialog of type D as soon as it shows (or gives up after 5 s).
template <typename D, typename F>
inline void whenModal(QObject *context, F act, int triesLeft = 500)
{
    QTimer::singleShot(10, context, [context, act, triesLeft] {
        if (auto *dialog = qobject_cast<D *>(QApplication::activeModalWidget()); dialog && dialog->isVisible())
            act(dialog);
        else if (triesLeft > 0)
            whenModal<D>(context, act, triesLeft - 1);
    });
}

// As a DM would: the name typed into the dialog's file name box, then Save.
inline void typeFileName(QFileDialog *dialog, const QString &path)
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

// The desktop's notifications as a test sees them (offscreen has no tray).
struct ShownNotifications final : DesktopNotifier {
    QList<std::pair<QString, QString>> shown;  // title, text
    void notify(const QString &title, const QString &text) override { shown.append({title, text}); }
};

class DeskTestBase : public QObject
{
protected:
    void setUpDesk()
    {
        QStandardPaths::setTestModeEnabled(true);
        SqliteOptions o;
        o.path = m_dir.filePath(u"desk.db"_s);
        m_store = std::make_unique<SqliteEventStore>(o);
        QVERIFY(m_store->openAndWait().ok());
        m_notifier = std::make_unique<BusNotifier>(0);
        // Rows other processes write wake the window, as in the app (BusSetup).
        connect(m_store.get(), &SqliteEventStore::externalRowsDetected, m_notifier.get(), &BusNotifier::externalRowsDetected);
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
        m_metrics = std::make_unique<Metrics>(*m_store, *m_notifier);
        m_webhooks = std::make_unique<WebhookDispatcher>(*m_store, *m_notifier, *m_store->desk(),
                                                         WebhookDispatcher::Options{.tickMs = 100});
        m_webhooks->start();
        m_importer = std::make_unique<FileImporter>(*m_store, *m_notifier);
        m_metrics->setSession(m_server.get());
        m_retention = std::make_unique<LogRetention>(*m_store);
        m_projector->start();
        QTRY_VERIFY(m_projector->cursor() > 100);
        m_window = std::make_unique<MainWindow>(MainWindowDeps{*m_store, *m_bus, *m_notifier, m_store->desk(), m_store.get(), m_retention.get(),
                                                               m_server.get(), o.path,
                                                               m_projector.get(), &m_desktop, m_metrics.get(), m_webhooks.get(), m_importer.get()});
        m_window->resize(1400, 820);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        QTRY_VERIFY(m_window->model()->rowCount() > 100);
    }

    void saveShot(const QString &name)
    {
        QApplication::processEvents();
        const QString dir = qEnvironmentVariable("EVENTDESK_SCREENSHOT_DIR", QDir::currentPath() + u"/screenshots"_s);
        QDir().mkpath(dir);
        const QString path = dir + u'/' + name + u".png"_s;
        QVERIFY(m_window->grab().save(path));
        qInfo("screenshot: %s", qPrintable(path));
    }

    QTemporaryDir m_dir;
    std::unique_ptr<SqliteEventStore> m_store;
    std::unique_ptr<BusNotifier> m_notifier;
    std::unique_ptr<StoreEventBus> m_bus;
    std::unique_ptr<Metrics> m_metrics;  // outlives the server it reads
    std::unique_ptr<WebhookDispatcher> m_webhooks;
    std::unique_ptr<FileImporter> m_importer;
    std::unique_ptr<SessionServer> m_server;
    std::unique_ptr<Projector> m_projector;
    std::unique_ptr<LogRetention> m_retention;
    ShownNotifications m_desktop;
    std::unique_ptr<MainWindow> m_window;
};
