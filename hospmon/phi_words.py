"""Word lists of the PHI guard: pinyin, common surnames, and hospital words that are not personal names.

Data only; `hospmon.phi` holds the rules. The Han words are what a 2-4 character Han string in a label value
may be without being taken for a name: departments, buildings, rooms, equipment and IT terms. Sites add their
own through the guard's ``allow_words`` (the inventory's Chinese names are added by whoever builds the guard).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every pinyin syllable without tones (Hanyu Pinyin, with ü written as v or u).
PINYIN_SYLLABLES = _words(
    """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao
    ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui
    chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di dia dian diao die
    ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan
    gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen
    heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju
    juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai
    lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lue lun luo lv
    lve ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao
    ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nue nuo nv nve o ou pa pai pan
    pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong
    qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao
    se sen seng sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui
    shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting tong tou
    tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu
    xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze
    zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang
    zhui zhun zhuo zi zong zou zu zuan zui zun zuo
    """
)

# The most common Chinese surnames in pinyin (together well over 80% of the population), compound ones too.
PINYIN_SURNAMES = _words(
    """
    wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie
    song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai du ye cheng wei su lu
    ding ren shen yao jin fan fang shi qian dai xia zhong wan kong bai cui kang mao qiu qin shao meng
    long duan lei hou hao gong yin chang wen lai tan zou xiong jia yan gu mo tao bao fu ni niu qi hong
    xue geng yi ou zhan ge an chai liao lan zhuang ai yue lv shang rao ruan miao nie tong hua xing zhai
    jing ji lou bi ouyang sima zhuge shangguan situ huangfu dongfang
    """
)

# Hospital, building and IT words that may stand alone as a 2-4 character Han label value.
HOSPITAL_WORDS = _words(
    """
    医院 院区 总院 分院 门诊 急诊 住院 病区 病房 科室 护士站 医生站 诊室 诊区 候诊区 治疗室 换药室
    抢救室 留观室 手术室 手术部 麻醉科 重症 重症医学科 监护室 产房 产科 妇科 儿科 新生儿科 内科 外科
    骨科 眼科 耳鼻喉科 口腔科 皮肤科 神经内科 神经外科 心内科 心外科 呼吸科 消化科 肾内科 泌尿外科
    肿瘤科 血液科 感染科 康复科 中医科 体检 体检中心 透析 血液透析 透析室 检验 检验科 化验室 病理科
    输血科 血库 放射科 影像科 超声科 核医学科 介入科 药房 药剂科 中药房 西药房 静配中心 收费 收费处
    挂号 挂号处 医保 医保办 信息科 信息中心 网络中心 设备科 总务科 后勤 保卫科 医务科 护理部 院办
    财务科 病案室 供应室 消毒供应 营养科 食堂 行政楼 门诊楼 急诊楼 住院楼 医技楼 综合楼 科研楼 教学楼
    地下室 机房 主机房 弱电间 配线间 配电间 配电室 楼层 楼道 走廊 大厅 一楼 二楼 三楼 四楼 五楼 六楼
    七楼 八楼 九楼 十楼 东区 西区 南区 北区 东楼 西楼 南楼 北楼 主楼 副楼 交换机 核心 汇聚 接入
    路由器 防火墙 服务器 存储 磁盘 阵列 虚拟化 主机 网关 前置机 网闸 负载均衡 无线 有线 内网 外网
    专网 医保专网 光纤 上联 下联 互联 备用 主用 冗余 堆叠 端口 链路 电源 风扇 温度 湿度 空调
    精密空调 电池 市电 旁路 告警 正常 故障 在线 离线 运行 停用 维护 测试 监控 数据库 应用 集成平台
    接口 影像 阅片 叫号 自助机 打印机 工作站 终端 摄像头 门禁 对讲 危急值 结果 标本 报告
    """
)

# What the shipped rules' Chinese summaries (`summary_zh`) say between the values they name, word by word: the
# router's guard reads an annotation as a value, where a short Han run is taken for a name unless it splits
# into allowed words. No single character here is a surname (tests/test_phi.py), so no name is made of them.
ALERT_WORDS = _words(
    """
    的 上 已 将 在 无 了 到 与 为 不 卷 查询 缺失 响应 丢失 丢弃 中断 事件 即将 耗尽 使用率 过高 出现 丢包
    错包 出错 分析仪 分钟 写满 缓慢 天内 到期 过期 失去 通信 失败 停止 断开 重启 带宽 占满 归档 执行 拒收
    拒绝 探测 无法 采集 未能 送达 来自 检查 状态 关联 复制 网卡 表空间 积压 缺纸 自检 节点 规则 证书 资源
    超过 过载 连接池 错误 队列 内存 发出 掉盘 连接 设备
    """
)

# Chinese numerals and the units that follow them in room and floor names ("五楼", "三病区" are not names).
NUMERALS = "一二三四五六七八九十百零〇两"
UNITS = "楼层区号室床栋座号科组站间"

# Common Han surnames (the Hundred Family Surnames' frequent part): in free text a name is looked for only
# after a patient word, and only one that starts with one of these.
HAN_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕"
    "单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚"
    "娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池"
    "查麻苑迟邝"
)
# Words after which free text names a patient: "患者张三", "3床 李四" (hospital notes, pasted messages).
PATIENT_CUES = ("患者", "病人", "病员", "病患", "患儿", "家属", "产妇", "孕妇", "床")
