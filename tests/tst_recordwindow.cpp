// File → Record an engine… through the real modal loop, against the stand-in
// engine (standin_engine.py): the engine's messages arrive in the log as
// engine messages (not undecodable), the status bar says what is recorded,
// the Type filter narrows the log to one of the engine's tags, and a row
// opens in the detail pane in words.
#include "DeskTestBase.h"

#include "DetailPane.h"
#include "EngineMessages.h"
#include "RecordDialog.h"

#include <QFile>
#include <QTreeWidget>
#include <QUuid>

class TestRecordWindow : public DeskTestBase
{
    Q_OBJECT

    QProcess m_engine;
    quint16 m_port = 0;
    const QString m_world = QUuid::createUuid().toString(QUuid::WithoutBraces);
    int m_fixtures = 0;

private Q_SLOTS:
    void initTestCase()
    {
        setUpDesk();
        const QString fixtures = QStringLiteral(EVENTDESK_TEST_FIXTURES "/engine/server_messages.jsonl");
        QFile f(fixtures);
        QVERIFY(f.open(QIODevice::ReadOnly));
        m_fixtures = int(f.readAll().trimmed().split('\n').size());
        m_engine.start(u"/usr/bin/python3"_s, {QStringLiteral(EVENTDESK_TEST_DATA "/../standin_engine.py"), u"--world"_s, m_world,
                                              u"--messages"_s, fixtures});
        QVERIFY2(m_engine.waitForStarted(10000), "python3 with websockets (installer/install-deps.sh)");
        QVERIFY(QTest::qWaitFor([this] { return m_engine.canReadLine(); }, 20000));
        const QByteArray line = m_engine.readLine().trimmed();
        QVERIFY2(line.startsWith("port "), line.constData());
        m_port = quint16(line.mid(5).toUInt());
    }
    void cleanupTestCase()
    {
        m_engine.closeWriteChannel();  // the stand-in ends when its stdin does
        if (!m_engine.waitForFinished(10000))
            m_engine.kill();
    }

    void recordsFiltersAndOpens();
};

void TestRecordWindow::recordsFiltersAndOpens()
{
    EventLogModel *model = m_window->model();
    const int before = model->rowCount();
    auto *record = m_window->findChild<QAction *>(u"recordEngine"_s);
    QVERIFY(record);
    whenModal<RecordDialog>(this, [this](RecordDialog *dialog) {
        dialog->engineEdit()->setText(u"ws://127.0.0.1:%1/ws"_s.arg(m_port));
        dialog->worldBox()->setEditText(m_world);
        for (QPushButton *b : dialog->findChildren<QPushButton *>())
            if (b->text() == u"Record"_s)
                b->click();
    });
    record->trigger();
    QCOMPARE(int(m_window->recorders().size()), 1);
    QTRY_VERIFY_WITH_TIMEOUT(model->rowCount() >= before + m_fixtures, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->recordStatus()->isVisible()
                                 && m_window->recordStatus()->text().contains(u"Recording The Shattered Coast"_s),
                             15000);
    QVERIFY2(m_window->recordStatus()->text().contains(QString::number(m_fixtures)), qPrintable(m_window->recordStatus()->text()));

    // Narrowed to one of the engine's tags, through the Type filter's tree.
    auto *types = m_window->findChild<TypeFilter *>();
    QVERIFY(types);
    QTreeWidget *tree = types->tree();
    for (int c = 0; c < tree->topLevelItemCount(); ++c)
        tree->topLevelItem(c)->setCheckState(0, Qt::Unchecked);
    const QList<QTreeWidgetItem *> dialogue = tree->findItems(u"DialogueResponse"_s, Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(dialogue.size(), 1);
    dialogue.first()->setCheckState(0, Qt::Checked);
    QCOMPARE(types->tags(), QStringList{u"DialogueResponse"_s});
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);
    QTRY_VERIFY(model->eventAt(0) && model->eventAt(1));
    for (int r = 0; r < 2; ++r) {
        QCOMPARE(model->eventAt(r)->eventType, u"DialogueResponse"_s);
        QVERIFY(model->eventAt(r)->isEngineMessage());
        QCOMPARE(model->index(r, EventLogModel::WorldColumn).data().toString(), u"The Shattered Coast"_s);
        QVERIFY(model->index(r, EventLogModel::SummaryColumn).data(Qt::ForegroundRole) != QVariant(QColor(0xc0, 0x39, 0x2b)));
    }
    QVERIFY2(model->index(0, EventLogModel::SummaryColumn).data().toString().startsWith(u"Mara Quell: “"_s),
             qPrintable(model->index(0, EventLogModel::SummaryColumn).data().toString()));

    // Opened: the detail pane in words, with the engine's fields.
    m_window->view()->selectRow(0);
    auto *pane = m_window->findChild<DetailPane *>();
    QVERIFY(pane);
    QTRY_VERIFY(!pane->findChildren<QLabel *>().isEmpty());
    bool titled = false;
    for (QLabel *l : pane->findChildren<QLabel *>())
        titled = titled || (l->text().contains(u"DialogueResponse"_s) && l->text().contains(u"Mara Quell"_s));
    QVERIFY(titled);
    const QString body = pane->findChild<QTextBrowser *>()->toPlainText();
    QVERIFY2(body.contains(u"speaker_name"_s) && body.contains(u"Another storm"_s), qPrintable(body.left(300)));

    // Stop recording: the status goes once the last rows are durable.
    for (QAction *a : m_window->findChildren<QAction *>())
        if (a->text() == u"Stop recording"_s)
            a->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->recorders().empty(), 15000);
    QTRY_VERIFY(!m_window->recordStatus()->isVisible());
}

QTEST_MAIN(TestRecordWindow)
#include "tst_recordwindow.moc"
