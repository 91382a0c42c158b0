// Names players give and fields producers write are shown to the DM as the
// text they are, never as markup: driven where the DM sees them (hovering a
// log row and the Connected table through the real event loop, the Kick
// question, the detail pane), with names that would bold, link, or make the
// window read /dev/zero if Qt took them for rich text.
#include "DeskTestBase.h"

#include "DetailPane.h"

#include <QFile>
#include <QTextDocument>
#include <QToolTip>

namespace {

const QString ZeroImage = u"<img src=\"/dev/zero\">"_s;
const QString BoldLink = u"<b>BOLD</b><a href=file:///etc/passwd>link</a>"_s;

// Resident memory of this process, in kB.
qint64 residentKb()
{
    QFile status(u"/proc/self/status"_s);
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return 0;
}

// The tooltip on screen now, if any.
QLabel *shownToolTip()
{
    for (QWidget *w : QApplication::topLevelWidgets())
        if (w->objectName() == u"qtooltip_label"_s && w->isVisible())
            return qobject_cast<QLabel *>(w);
    return nullptr;
}

// What a label shows a reader, whatever format it holds its text in.
QString shownText(const QLabel *label)
{
    const bool rich = label->textFormat() == Qt::RichText
        || (label->textFormat() == Qt::AutoText && Qt::mightBeRichText(label->text()));
    if (!rich)
        return label->text();
    QTextDocument doc;
    doc.setHtml(label->text());
    return doc.toPlainText();
}

} // namespace

class TestInjection : public DeskTestBase
{
    Q_OBJECT

    // Rests the mouse on a cell of a view, as a DM does, and returns the tooltip
    // the application then shows (empty if none came).
    QString hover(QAbstractItemView *view, const QModelIndex &index)
    {
        // Tooltips show over the active window (a closed question box may have taken it).
        QApplication::setActiveWindow(view->window());
        if (!QTest::qWaitForWindowActive(view->window()))
            return u"(the window is not active)"_s;
        QToolTip::hideText();  // the last one fades out first: wait for it to go
        QTest::mouseMove(m_window.get(), QPoint(2, 2));
        if (!QTest::qWaitFor([] { return shownToolTip() == nullptr; }, 3000))
            return u"(the previous tooltip never went)"_s;
        view->scrollTo(index);
        QApplication::processEvents();
        const QPoint at = view->visualRect(index).center();
        // Two moves, as a real pointer makes: the first enters, the second rests.
        QTest::mouseMove(view->viewport(), at - QPoint(3, 0));
        QTest::mouseMove(view->viewport(), at);
        if (!QTest::qWaitFor([] { return shownToolTip() != nullptr; }, 5000))
            return {};
        QLabel *tip = shownToolTip();
        m_lastTipHtml = tip->text();
        return shownText(tip);
    }

    QString m_lastTipHtml;
    qint64 m_rssBefore = 0;

private Q_SLOTS:
    void initTestCase()
    {
        setUpDesk();
        m_rssBefore = residentKb();
    }

    void playersNamesAreText();
    void producersFieldsAreText();
    void memoryStaysFlat();
    void throttledAddressIsShown();
};

void TestInjection::playersNamesAreText()
{
    m_server->setListenAddress(QHostAddress::LocalHost, 0);
    QVERIFY(m_server->listen().ok());
    QWebSocket player;
    QList<QJsonObject> received;
    connect(&player, &QWebSocket::textMessageReceived, this,
            [&received](const QString &text) { received.append(QJsonDocument::fromJson(text.toUtf8()).object()); });
    QSignalSpy connected(&player, &QWebSocket::connected);
    player.open(m_server->url());
    QVERIFY(connected.wait(5000));
    const auto send = [&player](const QJsonObject &o) { player.sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact))); };
    send({{u"type"_s, u"Join"_s}, {u"role"_s, u"player"_s}, {u"world_id"_s, u"Ravenmoor"_s}, {u"name"_s, ZeroImage},
          {u"join_code"_s, m_server->joinCodeFor(u"Ravenmoor"_s)}});
    QTRY_VERIFY(!received.isEmpty());
    QCOMPARE(received.first().value(u"type"_s).toString(), u"Joined"_s);

    // The Connected table: the name as typed, in the cell and in its tooltip.
    QTableWidget *clients = m_window->sessionPanel()->clientTable();
    QTRY_COMPARE(clients->rowCount(), 1);
    QCOMPARE(clients->item(0, 0)->text(), ZeroImage);
    const QString clientTip = hover(clients, clients->model()->index(0, 0));
    QVERIFY2(clientTip.startsWith(ZeroImage), qPrintable(clientTip));
    QVERIFY2(!m_lastTipHtml.contains(u"<img"_s), qPrintable(m_lastTipHtml));

    // A roll for a character with markup in its name.
    const auto challenges = await(m_store->desk()->challenges(u"Ravenmoor"_s));
    QVERIFY(challenges.ok() && !challenges->isEmpty());
    received.clear();
    send({{u"type"_s, u"ChallengeRoll"_s}, {u"challenge_id"_s, challenges->first().id}, {u"character_id"_s, BoldLink},
          {u"modifier"_s, 2}});
    QTRY_VERIFY(std::any_of(received.cbegin(), received.cend(),
                            [](const QJsonObject &m) { return m.value(u"type"_s).toString() == u"ChallengeResolved"_s; }));
    // The row, once the window has the character's name.
    EventLogModel *model = m_window->model();
    const auto rollRow = [model] {
        for (int r = model->rowCount() - 1; r >= 0; --r)
            if (model->index(r, EventLogModel::SummaryColumn).data().toString().contains(BoldLink))
                return r;
        return -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(rollRow() >= 0, 15000);
    const QString rowTip = hover(m_window->view(), model->index(rollRow(), EventLogModel::SummaryColumn));
    QVERIFY2(rowTip.contains(BoldLink), qPrintable(rowTip));
    QVERIFY2(!m_lastTipHtml.contains(u"<b>"_s) && !m_lastTipHtml.contains(u"<a "_s), qPrintable(m_lastTipHtml));

    // Kick asks with the name as typed, as plain text.
    bool asked = false;
    clients->selectRow(0);
    whenModal<QMessageBox>(this, [&asked](QMessageBox *box) {
        asked = box->textFormat() == Qt::PlainText && box->text().contains(ZeroImage);
        box->button(QMessageBox::Cancel)->click();
    });
    QVERIFY(!m_window->sessionPanel()->kickSelected());
    QVERIFY(asked);
    player.close();
    QTRY_COMPARE(clients->rowCount(), 0);
    m_server->close();
}

void TestInjection::producersFieldsAreText()
{
    // Another process (the command line) publishes into the window's database.
    const QString world = u"<img src=\"/dev/zero\" width=9999>"_s;
    const QJsonObject event{{u"type"_s, u"ChallengeResolved"_s}, {u"challenge_id"_s, QJsonValue::Null},
                            {u"challenge_name"_s, BoldLink}, {u"world_id"_s, world}, {u"character_id"_s, ZeroImage},
                            {u"success"_s, true}, {u"roll"_s, 12}, {u"total"_s, 14}, {u"session_id"_s, QJsonValue::Null}};
    QProcess publish;
    publish.start(QStringLiteral(EVENTDESK_BINARY),
                  {u"publish"_s, u"--db"_s, m_dir.filePath(u"desk.db"_s), u"--json"_s,
                   QString::fromUtf8(QJsonDocument(event).toJson(QJsonDocument::Compact))});
    QVERIFY(publish.waitForFinished(30000));
    QCOMPARE(publish.exitCode(), 0);
    const qint64 id = publish.readAllStandardOutput().trimmed().toLongLong();
    QVERIFY(id > 0);

    EventLogModel *model = m_window->model();
    const auto rowOf = [model, id] {
        for (int r = model->rowCount() - 1; r >= std::max(0, model->rowCount() - 20); --r) {
            model->index(r, 0).data();  // as a view paints it: the row is read if it is not held
            if (const StoredEvent *e = model->eventAt(r); e && e->id == id)
                return r;
        }
        return -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(rowOf() >= 0, 10000);
    const int row = rowOf();
    const QString worldTip = hover(m_window->view(), model->index(row, EventLogModel::WorldColumn));
    QVERIFY2(worldTip.contains(world), qPrintable(worldTip));
    QVERIFY2(!m_lastTipHtml.contains(u"<img"_s), qPrintable(m_lastTipHtml));
    const QString summaryTip = hover(m_window->view(), model->index(row, EventLogModel::SummaryColumn));
    QVERIFY2(summaryTip.contains(BoldLink), qPrintable(summaryTip));
    QVERIFY2(!m_lastTipHtml.contains(u"<a "_s), qPrintable(m_lastTipHtml));

    // The detail pane builds HTML of its own: the fields are escaped in it.
    m_window->view()->selectRow(row);
    auto *pane = m_window->findChild<DetailPane *>();
    QVERIFY(pane);
    QTRY_VERIFY(!pane->findChildren<QTextBrowser *>().isEmpty());
    for (QTextBrowser *browser : pane->findChildren<QTextBrowser *>()) {
        QVERIFY(!browser->toHtml().contains(u"<img"_s));
        QVERIFY(browser->toPlainText().contains(world) || browser->toPlainText().isEmpty());
    }
    for (QLabel *label : pane->findChildren<QLabel *>())
        QVERIFY2(!label->text().contains(u"<img src"_s) && !label->text().contains(u"<a href"_s), qPrintable(label->text()));

    // The world filter lists it by its id, literally, in its entry and its tooltip.
    QComboBox *worlds = m_window->worldFilter();
    QTRY_VERIFY(worlds->findData(world) >= 0);
    const QString comboTip = worlds->itemData(worlds->findData(world), Qt::ToolTipRole).toString();
    QVERIFY(!comboTip.contains(u"<img"_s));
    QTextDocument doc;
    doc.setHtml(comboTip);
    QCOMPARE(doc.toPlainText(), world);
}

// Hovering all of that read nothing from /dev/zero: the window's memory is
// where it was (reading it grew the window by 2 GB in 12 s, then killed it).
void TestInjection::memoryStaysFlat()
{
    const qint64 after = residentKb();
    qInfo("resident memory: %lld kB before, %lld kB after", m_rssBefore, after);
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer keeps freed memory in quarantine: the process's RSS says
    // nothing here. Reading /dev/zero would still have aborted it long before.
    QSKIP("RSS is not the window's memory under AddressSanitizer");
#endif
    QVERIFY2(after - m_rssBefore < 150 * 1024, qPrintable(u"grew by %1 kB"_s.arg(after - m_rssBefore)));
}

// Wrong join codes from one address slow it down; the Connected panel says
// so, naming the address, since every player behind it waits too.
void TestInjection::throttledAddressIsShown()
{
    m_server->setListenAddress(QHostAddress::LocalHost, 0);
    QVERIFY(m_server->listen().ok());
    QLabel *throttled = m_window->sessionPanel()->throttledLabel();
    QVERIFY(throttled->isHidden());
    for (int i = 0; i < 5; ++i) {
        QWebSocket guess;
        QSignalSpy connected(&guess, &QWebSocket::connected);
        guess.open(m_server->url());
        QVERIFY(connected.wait(5000));
        QSignalSpy closed(&guess, &QWebSocket::disconnected);
        guess.sendTextMessage(uR"({"type":"Join","role":"player","world_id":"Ravenmoor","name":"x","join_code":"WRONG123"})"_s);
        QVERIFY(closed.wait(10000));
    }
    // The panel looks each second.
    QTRY_VERIFY2(!throttled->isHidden() && throttled->text().contains(u"127.0.0.1"_s) && throttled->text().contains(u"5 failure"_s),
                 qPrintable(throttled->text()));
    m_server->close();
}

QTEST_MAIN(TestInjection)
#include "tst_injection.moc"
