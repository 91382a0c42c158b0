// The DM's forms and dialogs, each through its real modal loop: trigger (and
// duplicate and edit), the quick actions and the roll, naming, a new database,
// challenges, and prune with its preview.
#include "DeskTestBase.h"
#include "Settings.h"

#include <QClipboard>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QProgressBar>
#include <QSpinBox>
#include <QTcpServer>
#include <QToolButton>

class TestDeskForms : public DeskTestBase
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { setUpDesk(); }
    void triggeringThroughTheForm();
    void duplicateAndEditThroughTheTriggerForm();
    void quickActionsThroughTheProducers();
    void quickRollThroughItsDialog();
    void quickGenerationByName();
    void namingAWorldThroughItsDialog();
    void newDatabaseThroughItsDialog();
    void editingChallenges();
    void pruningWithAPreview();
    void joinLinkAndItsQrCode();
    void metricsWhileHosting();
};

void TestDeskForms::triggeringThroughTheForm()
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

void TestDeskForms::duplicateAndEditThroughTheTriggerForm()
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

void TestDeskForms::quickActionsThroughTheProducers()
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
void TestDeskForms::quickRollThroughItsDialog()
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
    // A sentinel published after the Cancel is the very next event: nothing came between.
    quick->recordStory(u"Ravenmoor"_s, StoryKind::DmMarker);
    QTRY_VERIFY(model->eventAt(model->rowCount() - 1)->id > last);
    QCOMPARE(model->eventAt(model->rowCount() - 1)->eventType, u"StoryEventCreated"_s);
    QCOMPARE(model->eventAt(model->rowCount() - 1)->id, last + 1);
    m_window->worldFilter()->setCurrentIndex(0);
}

// Quick → image generation, through its dialog: the image is for a character
// picked by name (Aria, named by the roll before), or for something named anew.
void TestDeskForms::quickGenerationByName()
{
    QuickActions *quick = m_window->quickActions();
    QAction *generate = nullptr;
    for (QAction *a : quick->menu()->actions())
        if (a->text().contains(u"generation"_s))
            generate = a;
    QVERIFY(generate);
    m_window->worldFilter()->setCurrentIndex(m_window->worldFilter()->findData(u"Ravenmoor"_s));
    const auto lastQueued = [this]() -> std::optional<events::GenerationBatchQueued> {
        EventQuery q;
        q.kinds = {EventKind::GenerationBatchQueued};
        q.newestFirst = true;
        q.limit = 1;
        const auto rows = await(m_store->fetchPage(q));
        if (!rows || rows->isEmpty())
            return std::nullopt;
        return *rows->first().event->as<events::GenerationBatchQueued>();
    };
    const QString before = lastQueued() ? lastQueued()->batchId : QString();
    const auto fill = [](QDialog *form, const QString &forA, const QString &named) {
        QComboBox *entity = nullptr, *type = nullptr;
        for (QComboBox *combo : form->findChildren<QComboBox *>()) {
            if (combo->isEditable())
                entity = combo;
            else if (combo->findText(u"location"_s) >= 0)
                type = combo;
        }
        QVERIFY(entity && type);
        auto *ok = qobject_cast<QDialogButtonBox *>(form->findChild<QDialogButtonBox *>())->button(QDialogButtonBox::Ok);
        QVERIFY(!ok->isEnabled());  // nobody named yet
        if (named == u"Aria"_s)
            QVERIFY(entity->findText(u"Aria"_s) >= 0);  // offered by name
        type->setCurrentIndex(type->findText(forA));
        entity->lineEdit()->setText(named);
        QVERIFY(ok->isEnabled());
        ok->click();
    };
    whenModal<QDialog>(this, [&](QDialog *form) { fill(form, u"character"_s, u"Aria"_s); });
    generate->trigger();
    QTRY_VERIFY(lastQueued() && lastQueued()->batchId != before);
    QCOMPARE(lastQueued()->entityType, u"character"_s);
    QCOMPARE(lastQueued()->entityId, ids::characterUuid(u"Ravenmoor"_s, u"Aria"_s));

    const QString first = lastQueued()->batchId;
    whenModal<QDialog>(this, [&](QDialog *form) { fill(form, u"location"_s, u"The Drowned Harbour"_s); });
    generate->trigger();
    QTRY_VERIFY(lastQueued() && lastQueued()->batchId != first);
    const QString harbour = lastQueued()->entityId;
    QCOMPARE(lastQueued()->entityType, u"location"_s);
    QVERIFY(ids::isUuid(harbour));
    QTRY_COMPARE(await(m_store->desk()->displayNames()).value().value(harbour), u"The Drowned Harbour"_s);
    m_window->worldFilter()->setCurrentIndex(0);
}

// Events → Name a world or character, through the real modal loop: the World
// column and the world filter then show the name, the data keeps the id.
void TestDeskForms::namingAWorldThroughItsDialog()
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

void TestDeskForms::newDatabaseThroughItsDialog()
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

void TestDeskForms::editingChallenges()
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
        // Audit lines name the challenge, not only its UUID.
        return std::any_of(audit.begin(), audit.end(), [](const AuditEntry &a) {
            return a.action == u"challenge edit"_s && a.detail.startsWith(u"“Swim the stormy strait”"_s);
        });
    }());
}

void TestDeskForms::pruningWithAPreview()
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
    dialog.show();
    QTRY_COMPARE(dialog.previewCount(), 8);
    QVERIFY(dialog.preview()->text().contains(u"4 older one"_s));
    QVERIFY(dialog.pruneButton()->isEnabled());
    dialog.force()->setChecked(true);
    QTRY_COMPARE(dialog.previewCount(), 12);
    dialog.force()->setChecked(false);
    QTRY_COMPARE(dialog.previewCount(), 8);
    QCOMPARE(await(book.count({})).value(), 12);  // a preview deletes nothing
    QSignalSpy pruned(&dialog, &PruneDialog::pruned);

    // Cancel while the archive is written: the log and the folder are as they were.
    const QStringList filesBefore = QDir(dir.path()).entryList(QDir::Files);
    dialog.pruneNow();
    QVERIFY(dialog.isPruning() && dialog.progressBar()->isVisible());
    dialog.cancelButton()->click();  // the dialog's Cancel stops the prune, it does not close
    QVERIFY(dialog.isVisible());
    QTRY_VERIFY(!dialog.isPruning());
    QVERIFY2(dialog.preview()->text().contains(u"nothing was deleted"_s), qPrintable(dialog.preview()->text()));
    QCOMPARE(pruned.size(), 0);
    QCOMPARE(await(book.count({})).value(), 12);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), filesBefore);

    dialog.pruneNow();
    QTRY_COMPARE(pruned.size(), 1);
    QCOMPARE(await(book.count({})).value(), 4);
    const QString archive = pruned.first().at(0).value<PruneReport>().archivePath;
    QCOMPARE(readArchive(archive)->size(), 8);
}


// Hosting shows the player page's join link for a world: Copy puts it on the
// clipboard, and its QR code reads back (zbarimg) as the very same link.
void TestDeskForms::joinLinkAndItsQrCode()
{
    SessionPanel *panel = m_window->sessionPanel();
    const quint16 freePort = freeLocalPort();
    QVERIFY(freePort > 0);
    panel->findChild<QSpinBox *>()->setValue(freePort);
    QVERIFY(panel->startHosting());
    auto *worlds = panel->findChild<QComboBox *>();
    QComboBox *linkWorld = nullptr;
    for (QComboBox *box : panel->findChildren<QComboBox *>())
        if (box->accessibleName() == u"World of the join link"_s)
            linkWorld = box;
    QVERIFY(worlds && linkWorld);
    QTRY_VERIFY(linkWorld->findData(u"Sunken Isles"_s) >= 0);
    linkWorld->setCurrentIndex(linkWorld->findData(u"Sunken Isles"_s));
    const QString expected = u"http://127.0.0.1:%1/join?world=Sunken%20Isles&code=%2"_s.arg(m_server->port()).arg(m_server->joinCodeFor(u"Sunken Isles"_s));
    QCOMPARE(panel->joinLink(), expected);
    for (QToolButton *b : panel->findChildren<QToolButton *>())
        if (b->text() == u"Copy link"_s)
            b->click();
    QCOMPARE(QApplication::clipboard()->text(), expected);
    QVERIFY(m_window->statusBar()->currentMessage().contains(u"Join link copied"_s));

    const QPixmap qr = panel->qrLabel()->pixmap();
    QVERIFY(!qr.isNull() && qr.width() >= 29 * 3);
    const QString png = m_dir.filePath(u"join-qr.png"_s);
    QVERIFY(qr.save(png));
    QProcess zbar;
    zbar.start(u"zbarimg"_s, {u"--raw"_s, u"-q"_s, png});
    QVERIFY2(zbar.waitForFinished(20000), "zbarimg (zbar-tools) must be installed: installer/install-deps.sh");
    QCOMPARE(QString::fromUtf8(zbar.readAllStandardOutput()).trimmed(), expected);

    // The table screen's link is the same at /table.
    for (QToolButton *b : panel->findChildren<QToolButton *>())
        if (b->text() == u"Copy table screen link"_s)
            b->click();
    QCOMPARE(QApplication::clipboard()->text(), QString(expected).replace(u"/join?"_s, u"/table?"_s));
    QVERIFY(panel->stopHosting());
    QVERIFY(!panel->qrLabel()->isVisible());
}

// Settings → Serve /metrics while hosting: Prometheus text on the session port
// while it is checked, 404 once it is not.
void TestDeskForms::metricsWhileHosting()
{
    auto *serve = m_window->findChild<QAction *>(u"serveMetrics"_s);
    QVERIFY(serve && serve->isCheckable());
    serve->setChecked(false);
    SessionPanel *panel = m_window->sessionPanel();
    const quint16 freePort = freeLocalPort();
    QVERIFY(freePort > 0);
    panel->findChild<QSpinBox *>()->setValue(freePort);
    QVERIFY(panel->startHosting());
    QNetworkAccessManager net;
    const auto get = [&net](const QUrl &url) {
        std::unique_ptr<QNetworkReply> reply(net.get(QNetworkRequest(url)));
        if (!QTest::qWaitFor([&reply] { return reply->isFinished(); }, 5000))
            return std::pair{-1, QByteArray("no answer within 5 s")};
        return std::pair{reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll()};
    };
    const QUrl url(u"http://127.0.0.1:%1/metrics"_s.arg(freePort));
    QCOMPARE(get(url).first, 404);
    serve->setChecked(true);
    QVERIFY(Settings().serveMetrics());
    QTRY_VERIFY(m_metrics->isCounting());
    const auto [status, body] = get(url);
    QCOMPARE(status, 200);
    QVERIFY2(body.contains("eventdesk_session_clients{role=\"player\"} 0") && body.contains("# TYPE eventdesk_events_appended_total counter"),
             body.left(400).constData());
    serve->setChecked(false);
    QCOMPARE(get(url).first, 404);
    QVERIFY(panel->stopHosting());
}

QTEST_MAIN(TestDeskForms)
#include "tst_deskforms.moc"
