// The DM's window driven through its widgets, offscreen: filtering and the
// filter banner, view as, hosting and kicking a player, export, notifications,
// a locked database; and screenshots of it during a simulated session. (Its
// forms and dialogs: tst_deskforms.)
#include "DeskTestBase.h"

#include "Settings.h"
#include "TaskProgress.h"
#include "SampleEvents.h"

class TestMainWindow : public DeskTestBase
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { setUpDesk(); }
    void filteringThroughTheFilterBar();
    void hostingAndKicking();
    void exportingTheFilteredRows();
    void timeRangeFilter();
    void notificationsTheDmPicks();
    void lockedDatabaseKeepsTheWindowAlive();
    void screenshots();
    void importingAFile();  // last: it adds rows the others would count

};

void TestMainWindow::filteringThroughTheFilterBar()
{
    EventLogModel *model = m_window->model();
    // A job's progress says what the job is for, not only its batch id.
    int progress = -1;
    for (int r = 0; r < model->rowCount() && progress < 0; ++r)
        if (model->eventAt(r)->eventType == u"GenerationBatchProgress"_s)
            progress = r;
    QVERIFY(progress >= 0);
    QVERIFY2(model->index(progress, EventLogModel::SummaryColumn).data().toString().contains(u"portrait for character pc2"_s),
             qPrintable(model->index(progress, EventLogModel::SummaryColumn).data().toString()));
    QSignalSpy loaded(model, &EventLogModel::loaded);
    QComboBox *world = m_window->worldFilter();
    QTRY_VERIFY(world->findData(u"Ravenmoor"_s) >= 0);
    world->setCurrentIndex(world->findData(u"Ravenmoor"_s));
    Q_EMIT world->activated(world->currentIndex());
    QTRY_VERIFY(loaded.size() >= 1);
    QVERIFY(model->rowCount() > 0);
    for (int r = 0; r < model->rowCount(); ++r)
        QCOMPARE(model->eventAt(r)->event->worldId(), u"Ravenmoor"_s);

    // Types as a DM picks them: the popup opens on a click, None clears the
    // boxes, the Challenge category's box picks its types, Esc closes it.
    TypeFilter *type = m_window->typeFilter();
    QCOMPARE(type->text(), u"All types"_s);
    bool picked = false;
    QTimer::singleShot(10, this, [&] {
        QTRY_VERIFY(QApplication::activePopupWidget());
        QWidget *popup = QApplication::activePopupWidget();
        QVERIFY(popup->isAncestorOf(type->tree()));
        for (auto *b : popup->findChildren<QPushButton *>())
            if (b->text() == u"None"_s)
                b->click();
        const auto found = type->tree()->findItems(u"Challenge"_s, Qt::MatchExactly);
        QCOMPARE(found.size(), 1);
        found.first()->setCheckState(0, Qt::Checked);
        picked = true;
        QTest::keyClick(popup, Qt::Key_Escape);
    });
    QTest::mouseClick(type, Qt::LeftButton);
    QTRY_VERIFY(picked && !QApplication::activePopupWidget());
    QTRY_COMPARE(type->text(), u"Challenge"_s);
    QCOMPARE(type->kinds(), catalog::kindsInCategory(Category::Challenge));
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
    QVERIFY(type->kinds().isEmpty());
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

    // Progress in the status bar, with Cancel: cancelled, the file is as it was
    // (here: the earlier export, untouched), and no new one appears.
    TaskProgress *task = m_window->taskProgress();
    const QByteArray before = [&] { QFile again(jsonl); again.open(QIODevice::ReadOnly); return again.readAll(); }();
    m_window->exportFiltered(jsonl);
    QVERIFY(task->isVisible() && task->isRunning());
    task->cancelButton()->click();
    QTRY_VERIFY(!task->isRunning());
    QVERIFY(!task->isVisible());
    QVERIFY2(m_window->statusBar()->currentMessage().contains(u"cancelled"_s), qPrintable(m_window->statusBar()->currentMessage()));
    QCOMPARE(exported.size(), 2);
    QFile kept(jsonl);
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), before);
    m_window->exportFiltered(m_dir.filePath(u"cancelled.jsonl"_s));
    task->cancelButton()->click();
    QTRY_VERIFY(!task->isRunning());
    QVERIFY(!QFile::exists(m_dir.filePath(u"cancelled.jsonl"_s)));
    QCOMPARE(QDir(m_dir.path()).entryList({u"cancelled*"_s}, QDir::Files | QDir::Hidden), QStringList{});
    world->setCurrentIndex(0);
    Q_EMIT world->activated(0);
    QTRY_VERIFY(model->rowCount() > 100);
}

// File → Import: all or nothing, with progress and Cancel in the status bar.
void TestMainWindow::importingAFile()
{
    const auto write = [this](const QString &name, const QByteArray &text) {
        QFile f(m_dir.filePath(name));
        if (!f.open(QIODevice::WriteOnly))
            return QString();
        f.write(text);
        return f.fileName();
    };
    QByteArray good;
    for (int i = 0; i < 3000; ++i)
        good += R"({"type":"StoryEventCreated","story_event_id":"imported-)" + QByteArray::number(i)
                + R"(","world_id":"Imported","event_type":"dialogue"})" "\n";
    const qint64 before = await(m_store->count({})).value();
    QSignalSpy imported(m_window.get(), &MainWindow::imported);
    TaskProgress *task = m_window->taskProgress();

    // Cancelled: nothing comes in.
    m_window->importFile(write(u"good.jsonl"_s, good));
    QVERIFY(task->isRunning());
    task->cancelButton()->click();
    QTRY_VERIFY(!task->isRunning());
    QVERIFY2(m_window->statusBar()->currentMessage().contains(u"cancelled: nothing was imported"_s),
             qPrintable(m_window->statusBar()->currentMessage()));
    QCOMPARE(await(m_store->count({})).value(), before);

    // One bad line refuses the file, naming the line.
    m_window->importFile(write(u"bad.jsonl"_s, good + "{\"type\":\"Nope\"}\n"));
    QTRY_VERIFY(!task->isRunning());
    QVERIFY2(m_window->statusBar()->currentMessage().contains(u"line 3001"_s), qPrintable(m_window->statusBar()->currentMessage()));
    QCOMPARE(await(m_store->count({})).value(), before);

    // A file that is not there: said, nothing imported.
    m_window->importFile(m_dir.filePath(u"missing.jsonl"_s));
    QTRY_VERIFY(!task->isRunning());
    QVERIFY2(m_window->statusBar()->currentMessage().contains(u"cannot read"_s), qPrintable(m_window->statusBar()->currentMessage()));
    QCOMPARE(await(m_store->count({})).value(), before);

    // Whole: every row, and the log shows them.
    m_window->importFile(m_dir.filePath(u"good.jsonl"_s));
    QTRY_COMPARE(imported.size(), 1);
    QCOMPARE(imported.first().first().toLongLong(), 3000);
    QCOMPARE(await(m_store->count({})).value(), before + 3000);
    QVERIFY(!task->isRunning());
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

void TestMainWindow::notificationsTheDmPicks()
{
    QCOMPARE(m_window->notifyKinds(), (QList<EventKind>{EventKind::GenerationBatchFailed, EventKind::SuggestionFailed}));
    m_window->setNotifyKinds({EventKind::ChallengeResolved});
    QCOMPARE(Settings().notifyKinds(), QList<EventKind>{EventKind::ChallengeResolved});
    // A live row of a picked type reaches the desktop, in words; other types do
    // not. Whatever the filter shows: here, another world only.
    m_window->worldFilter()->setCurrentIndex(m_window->worldFilter()->findData(u"Sunken Isles"_s));
    Q_EMIT m_window->worldFilter()->activated(m_window->worldFilter()->currentIndex());
    m_desktop.shown.clear();
    QVERIFY(await(m_bus->publish(events::StoryEventCreated{ids::newUuid(), u"Ravenmoor"_s, u"dialogue"_s})).ok());
    QVERIFY(await(m_bus->publish(events::ChallengeResolved{std::nullopt, u"Swim the rapids"_s, u"Ravenmoor"_s, u"pc1"_s, false,
                                                           4, 6, std::nullopt}))
                .ok());
    QTRY_COMPARE(m_desktop.shown.size(), 1);  // the story row came first and was passed over
    QCOMPARE(m_desktop.shown.first().first, u"ChallengeResolved"_s);
    QVERIFY2(m_desktop.shown.first().second.contains(u"Swim the rapids"_s), qPrintable(m_desktop.shown.first().second));
    m_window->setNotifyKinds({EventKind::GenerationBatchFailed, EventKind::SuggestionFailed});
    QVERIFY(await(m_bus->publish(events::ChallengeResolved{std::nullopt, u"Climb"_s, u"Ravenmoor"_s, u"pc1"_s, true, 14, 16,
                                                           std::nullopt}))
                .ok());
    const qint64 sentinel = await(m_bus->publish(test::sampleEvent(EventKind::GenerationBatchFailed, false))).value();
    QTRY_COMPARE(m_desktop.shown.size(), 2);
    QCOMPARE(m_desktop.shown.last().first, u"GenerationBatchFailed"_s);  // the Climb was not shown
    QVERIFY(sentinel > 0);
    m_window->filterBanner()->button()->click();  // Clear filters
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
        {u"join_code"_s, m_server->joinCodeFor(u"Ravenmoor"_s)}}).toJson(QJsonDocument::Compact)));
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
    auto *since = m_window->findChild<QComboBox *>(u"sinceFilter"_s);
    QVERIFY(since);
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
    const int row = m_window->model()->rowCount() - 3;
    view->selectRow(row);
    QTRY_VERIFY(!view->selectionModel()->selectedRows().isEmpty());
    // The picture is of something: the selected event is in the detail pane,
    // and the window drew itself whole, not a blank.
    const QString title = u"· #%1"_s.arg(m_window->model()->eventAt(row)->id);
    const auto detailSays = [&] {
        const auto labels = m_window->findChildren<QLabel *>();
        return std::any_of(labels.begin(), labels.end(), [&](QLabel *l) { return l->isVisible() && l->text().contains(title); });
    };
    QTRY_VERIFY(detailSays());
    const QImage shot = m_window->grab().toImage();
    QCOMPARE(shot.size() / shot.devicePixelRatio(), m_window->size());
    QSet<QRgb> colours;
    for (int y = 0; y < shot.height(); y += 7)
        for (int x = 0; x < shot.width(); x += 7)
            colours.insert(shot.pixel(x, y));
    QVERIFY2(colours.size() > 20, qPrintable(u"%1 colours"_s.arg(colours.size())));
    saveShot(u"main-window"_s);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
