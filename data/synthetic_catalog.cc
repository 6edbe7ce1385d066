#include "data/synthetic_catalog.h"

#include <array>
#include <string_view>

namespace crowd::synth {
namespace {

using catalog::FieldKind;
using catalog::FieldMeta;

// Leaf category names of each vertical (world::verticals() order), given
// in turn to its head categories: the demo's ids are Taobao's anonymised
// ones, so the names are made up, but read as a marketer's would.
constexpr std::array<std::array<std::string_view, 4>, world::kVerticals> kLeafNames = {{
    {"面部精华", "口红", "面膜", "粉底液"},
    {"连衣裙", "针织衫", "半身裙", "羽绒服"},
    {"T恤", "夹克", "休闲裤", "衬衫"},
    {"婴儿奶粉", "纸尿裤", "婴儿推车", "辅食"},
    {"手机", "蓝牙耳机", "平板电脑", "充电宝"},
    {"游戏点卡", "游戏手柄", "电竞鼠标", "主机游戏"},
    {"跑步鞋", "瑜伽垫", "运动服", "健身器材"},
    {"床品套件", "收纳用品", "灯具", "餐具"},
    {"坚果零食", "咖啡", "牛奶", "方便食品"},
    {"猫粮", "狗粮", "猫砂", "宠物玩具"},
    {"小说", "童书", "教辅", "漫画"},
    {"车载用品", "机油", "行车记录仪", "汽车坐垫"},
    {"维生素", "蛋白粉", "鱼油", "益生菌"},
    {"空调", "洗衣机", "扫地机器人", "电饭煲"},
    {"黄金饰品", "珍珠", "手表", "银饰"},
    {"女鞋", "双肩包", "运动鞋", "手提包"},
}};

FieldMeta field(std::string label, std::string description, FieldKind kind) {
  FieldMeta m;
  m.label = std::move(label);
  m.description = std::move(description);
  m.kind = kind;
  return m;
}

}  // namespace

std::vector<std::pair<std::string, FieldMeta>> demo_catalog(const Population& population) {
  std::vector<std::pair<std::string, FieldMeta>> out;
  auto gender = field("性别", "性别（每人一个）", FieldKind::kExclusive);
  gender.values["male"].label = "男";
  gender.values["female"].label = "女";
  out.emplace_back("gender", std::move(gender));
  auto age = field("年龄段", "年龄段（每人一个）", FieldKind::kExclusive);
  for (const auto band : world::kAgeBandNames) age.values[std::string(band)].label = std::string(band) + "岁";
  out.emplace_back("age", std::move(age));
  auto city = field("城市", "常驻城市（每人一个），值的标签为中文城市名", FieldKind::kExclusive);
  for (const auto& c : world::cities()) {
    if (!c.hanzi.empty()) city.values[std::string(c.pinyin)].label = std::string(c.hanzi);
  }
  out.emplace_back("city", std::move(city));
  auto tier = field("城市等级", "城市线级：1 为一线及新一线，5 为五线", FieldKind::kExclusive);
  for (int t = 1; t <= world::kTiers; ++t) tier.values[std::to_string(t)].label = std::to_string(t) + "线";
  out.emplace_back("tier", std::move(tier));
  auto power = field("购买力", "购买力档位", FieldKind::kExclusive);
  power.values["low"].label = "低";
  power.values["mid"].label = "中";
  power.values["high"].label = "高";
  out.emplace_back("power", std::move(power));
  out.emplace_back("depth", field("购物深度", "购物深度：触达的类目数档位", FieldKind::kExclusive));
  out.emplace_back("student", field("学生", "在校学生", FieldKind::kMulti));
  out.emplace_back("platform", field("平台特征", "促销敏感、品质偏好、分享达人", FieldKind::kMulti));
  out.emplace_back("兴趣", field("兴趣", "兴趣偏好（行业）：类目树的第一层", FieldKind::kMulti));
  // Categories: the head ones named, under their vertical's 兴趣 tag.
  auto cat = field("类目行为", "叶子类目上的行为：pv 浏览、fav 收藏、cart 加购、buy 购买", FieldKind::kMulti);
  const auto ids = population.category_ids();
  std::array<int, world::kVerticals> used{};
  for (std::size_t rank = 0; rank < world::kDatedCategories && rank < ids.size(); ++rank) {
    const int v = population.category_vertical(rank);
    auto& value = cat.values[std::to_string(ids[rank])];
    const auto n = static_cast<std::size_t>(used[v]++);
    value.label = std::string(kLeafNames[v][n % kLeafNames[v].size()]);
    if (n >= kLeafNames[v].size()) value.label += std::to_string(n / kLeafNames[v].size() + 1);
    value.parent = "兴趣:" + std::string(world::verticals()[v].interest);
  }
  out.emplace_back("cat", std::move(cat));
  out.emplace_back("shop", field("店铺粉丝", "关注的店铺", FieldKind::kMulti));
  out.emplace_back("member", field("品牌会员", "品牌会员", FieldKind::kMulti));
  out.emplace_back("aipl",
                   field("AIPL", "品牌人群资产：A 认知、I 兴趣、P 购买、L 忠诚（每个品牌一个）", FieldKind::kMulti));
  return out;
}

}  // namespace crowd::synth
