package cn.gridpatrol.patrolkit

import cn.gridpatrol.ffi.Answer
import cn.gridpatrol.ffi.OrgLevelCode
import cn.gridpatrol.ffi.SyncProgress

/**
 * zh-CN labels for what the core names by code: the actions on a hazard (button texts), the
 * levels and roles. Hazard states come from the core with their label (`statusZh`).
 */
object Labels {
    private val actions = mapOf(
        "report" to "上报隐患",
        "notify" to "下发整改通知",
        "start_rectification" to "开始整改",
        "submit_rectification" to "提交整改",
        "fix_on_spot" to "现场整改",
        "review" to "复查销号",
        "request_extension" to "申请延期",
        "decide_extension" to "审批延期",
        "escalate" to "上报上级",
        "hand_back" to "交办",
        "joint_enforcement" to "联合执法",
        "refer" to "移交执法部门",
        "record_outcome" to "登记处理结果",
        "supervise" to "挂牌督办",
        "withdraw" to "撤销",
    )

    private val roles = mapOf(
        "grid_worker" to "网格员",
        "village_leader" to "村（社区）",
        "township_officer" to "乡镇消防安全委员会办公室",
        "brigade_advisor" to "消防救援大队",
    )

    /** The button text for a transition verb (as in `HazardDetail.allowed`). */
    fun action(verb: String): String = actions[verb] ?: verb

    fun role(code: String): String = roles[code] ?: code

    fun level(level: OrgLevelCode): String = when (level) {
        OrgLevelCode.GRID -> "网格"
        OrgLevelCode.VILLAGE -> "村（社区）"
        OrgLevelCode.TOWNSHIP -> "乡镇（街道）"
    }

    /** An answer as shown beside a checklist item ("上次：不合格"). */
    fun answer(a: Answer): String = when (a) {
        Answer.Pass -> "合格"
        Answer.Fail -> "不合格"
        Answer.NotApplicable -> "不适用"
        is Answer.Number -> a.value.toString()
        is Answer.Choice -> a.value
        is Answer.Text -> a.value
        is Answer.Photo -> "照片"
    }

    /** One line for a sync progress bar. */
    fun progress(p: SyncProgress): String = when (p) {
        is SyncProgress.Pushed -> "上传 ${p.done}/${p.total}"
        is SyncProgress.Received -> "接收 ${p.ops} 条"
        is SyncProgress.Pulled -> "已下载 ${p.ops} 条"
        SyncProgress.Restarted -> "负责范围已变更，重新下载（本机未上传的记录保留）"
        is SyncProgress.Photos -> "照片 ${p.done}/${p.total}"
    }
}
