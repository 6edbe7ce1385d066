#include "data/synthetic_world.h"

namespace crowd::synth::world {
namespace {

enum : int {
  kBeauty,
  kWomenswear,
  kMenswear,
  kBaby,
  kDigital,
  kGames,
  kSports,
  kHome,
  kFood,
  kPets,
  kBooks,
  kAuto,
  kHealth,
  kAppliances,
  kJewelry,
  kShoesBags,
};

constexpr Vertical kVerticalTable[] = {
    {"beauty", "美妆", 0.08},  {"womenswear", "女装", 0.11}, {"menswear", "男装", 0.06}, {"baby", "母婴", 0.07},
    {"digital", "数码", 0.08}, {"games", "游戏", 0.03},      {"sports", "运动", 0.06},   {"home", "家居", 0.10},
    {"food", "食品", 0.11},    {"pets", "宠物", 0.03},       {"books", "图书", 0.05},    {"auto", "汽车", 0.04},
    {"health", "保健", 0.04},  {"appliances", "家电", 0.06}, {"jewelry", "珠宝", 0.03},  {"shoes_bags", "鞋包", 0.05},
};
static_assert(std::size(kVerticalTable) == kVerticals);

// 313 prefecture-level cities by tier (tier 1 here is 一线 and 新一线 together,
// then 二线 .. 五线), roughly by size within a tier. Pinyin without tones;
// where two cities share a pinyin name only the larger one is listed.
// clang-format off
constexpr City kCityTable[] = {
    {"beijing", "北京", 1}, {"shanghai", "上海", 1}, {"guangzhou", "广州", 1}, {"shenzhen", "深圳", 1}, {"chengdu", "成都", 1},
    {"hangzhou", "杭州", 1}, {"chongqing", "重庆", 1}, {"wuhan", "武汉", 1}, {"xian", "西安", 1}, {"suzhou", "苏州", 1},
    {"tianjin", "天津", 1}, {"nanjing", "南京", 1}, {"changsha", "长沙", 1}, {"zhengzhou", "郑州", 1}, {"dongguan", "东莞", 1},
    {"qingdao", "青岛", 1}, {"shenyang", "沈阳", 1}, {"ningbo", "宁波", 1}, {"kunming", "昆明", 1}, {"hefei", "合肥", 2},
    {"foshan", "佛山", 2}, {"fuzhou", "福州", 2}, {"wuxi", "无锡", 2}, {"xiamen", "厦门", 2}, {"jinan", "济南", 2},
    {"dalian", "大连", 2}, {"haerbin", "哈尔滨", 2}, {"wenzhou", "温州", 2}, {"shijiazhuang", "石家庄", 2},
    {"quanzhou", "泉州", 2}, {"nanning", "南宁", 2}, {"changchun", "长春", 2}, {"nanchang", "南昌", 2}, {"guiyang", "贵阳", 2},
    {"jinhua", "金华", 2}, {"changzhou", "常州", 2}, {"huizhou", "惠州", 2}, {"jiaxing", "嘉兴", 2}, {"nantong", "南通", 2},
    {"xuzhou", "徐州", 2}, {"taiyuan", "太原", 2}, {"zhuhai", "珠海", 2}, {"zhongshan", "中山", 2}, {"baoding", "保定", 2},
    {"lanzhou", "兰州", 2}, {"taizhou", "台州", 2}, {"shaoxing", "绍兴", 2}, {"yantai", "烟台", 2}, {"langfang", "廊坊", 2},
    {"haikou", "", 3}, {"wulumuqi", "", 3}, {"weifang", "", 3}, {"linyi", "", 3}, {"yangzhou", "", 3},
    {"huhehaote", "", 3}, {"yancheng", "", 3}, {"jiangmen", "", 3}, {"tangshan", "", 3}, {"luoyang", "", 3},
    {"zhanjiang", "", 3}, {"zibo", "", 3}, {"jining", "", 3}, {"shantou", "", 3}, {"weihai", "", 3},
    {"zhaoqing", "", 3}, {"ganzhou", "", 3}, {"zhangzhou", "", 3}, {"jieyang", "", 3}, {"guilin", "", 3},
    {"qingyuan", "", 3}, {"xiangyang", "", 3}, {"yichang", "", 3}, {"huzhou", "", 3}, {"zunyi", "", 3},
    {"mianyang", "", 3}, {"zhuzhou", "", 3}, {"yinchuan", "", 3}, {"xining", "", 3}, {"lianyungang", "", 3},
    {"huaian", "", 3}, {"zhenjiang", "", 3}, {"suqian", "", 3}, {"wuhu", "", 3}, {"anqing", "", 3}, {"fuyang", "", 3},
    {"bengbu", "", 3}, {"luan", "", 3}, {"chuzhou", "", 3}, {"handan", "", 3}, {"cangzhou", "", 3}, {"xingtai", "", 3},
    {"hengshui", "", 3}, {"zhangjiakou", "", 3}, {"datong", "", 3}, {"jinzhong", "", 3}, {"yulin", "", 3},
    {"baotou", "", 3}, {"eerduosi", "", 3}, {"anshan", "", 3}, {"jilin", "", 3}, {"daqing", "", 3},
    {"jiujiang", "", 3}, {"shangrao", "", 3}, {"nanyang", "", 3}, {"xinxiang", "", 3}, {"zhoukou", "", 3},
    {"zhumadian", "", 3}, {"shangqiu", "", 3}, {"xinyang", "", 3}, {"pingdingshan", "", 3}, {"kaifeng", "", 3},
    {"anyang", "", 3}, {"yueyang", "", 3}, {"changde", "", 3}, {"hengyang", "", 3}, {"chenzhou", "", 3},
    {"shaoyang", "", 3}, {"jingzhou", "", 3}, {"huanggang", "", 3}, {"xiaogan", "", 3}, {"shiyan", "", 3},
    {"deyang", "", 3}, {"nanchong", "", 3}, {"yibin", "", 3}, {"liuzhou", "", 3}, {"sanya", "", 3}, {"maoming", "", 3},
    {"meizhou", "", 3}, {"qinhuangdao", "", 4}, {"chengde", "", 4}, {"yangquan", "", 4}, {"changzhi", "", 4},
    {"linfen", "", 4}, {"yuncheng", "", 4}, {"chifeng", "", 4}, {"tongliao", "", 4}, {"fushun", "", 4},
    {"benxi", "", 4}, {"dandong", "", 4}, {"jinzhou", "", 4}, {"yingkou", "", 4}, {"fuxin", "", 4},
    {"liaoyang", "", 4}, {"panjin", "", 4}, {"tieling", "", 4}, {"chaoyang", "", 4}, {"huludao", "", 4},
    {"siping", "", 4}, {"tonghua", "", 4}, {"baishan", "", 4}, {"songyuan", "", 4}, {"qiqihaer", "", 4},
    {"mudanjiang", "", 4}, {"jiamusi", "", 4}, {"jixi", "", 4}, {"hegang", "", 4}, {"shuangyashan", "", 4},
    {"yichun", "", 4}, {"heihe", "", 4}, {"suihua", "", 4}, {"maanshan", "", 4}, {"huainan", "", 4},
    {"huaibei", "", 4}, {"tongling", "", 4}, {"huangshan", "", 4}, {"bozhou", "", 4}, {"chizhou", "", 4},
    {"xuancheng", "", 4}, {"putian", "", 4}, {"sanming", "", 4}, {"nanping", "", 4}, {"longyan", "", 4},
    {"ningde", "", 4}, {"jingdezhen", "", 4}, {"pingxiang", "", 4}, {"xinyu", "", 4}, {"yingtan", "", 4},
    {"jian", "", 4}, {"zaozhuang", "", 4}, {"dongying", "", 4}, {"taian", "", 4}, {"rizhao", "", 4}, {"dezhou", "", 4},
    {"liaocheng", "", 4}, {"binzhou", "", 4}, {"heze", "", 4}, {"hebi", "", 4}, {"jiaozuo", "", 4}, {"puyang", "", 4},
    {"xuchang", "", 4}, {"luohe", "", 4}, {"sanmenxia", "", 4}, {"jingmen", "", 4}, {"ezhou", "", 4},
    {"xianning", "", 4}, {"suizhou", "", 4}, {"xiangtan", "", 4}, {"yiyang", "", 4}, {"yongzhou", "", 4},
    {"huaihua", "", 4}, {"loudi", "", 4}, {"zhangjiajie", "", 4}, {"shaoguan", "", 4}, {"heyuan", "", 4},
    {"yangjiang", "", 4}, {"chaozhou", "", 4}, {"yunfu", "", 4}, {"wuzhou", "", 4}, {"beihai", "", 4},
    {"fangchenggang", "", 4}, {"qinzhou", "", 4}, {"guigang", "", 4}, {"baise", "", 4}, {"hezhou", "", 4},
    {"hechi", "", 4}, {"laibin", "", 4}, {"chongzuo", "", 4}, {"zigong", "", 5}, {"panzhihua", "", 5},
    {"luzhou", "", 5}, {"guangyuan", "", 5}, {"suining", "", 5}, {"neijiang", "", 5}, {"leshan", "", 5},
    {"meishan", "", 5}, {"guangan", "", 5}, {"dazhou", "", 5}, {"yaan", "", 5}, {"bazhong", "", 5}, {"ziyang", "", 5},
    {"liupanshui", "", 5}, {"anshun", "", 5}, {"bijie", "", 5}, {"tongren", "", 5}, {"qujing", "", 5}, {"yuxi", "", 5},
    {"baoshan", "", 5}, {"zhaotong", "", 5}, {"lijiang", "", 5}, {"puer", "", 5}, {"lincang", "", 5}, {"lasa", "", 5},
    {"tongchuan", "", 5}, {"baoji", "", 5}, {"xianyang", "", 5}, {"weinan", "", 5}, {"yanan", "", 5},
    {"hanzhong", "", 5}, {"ankang", "", 5}, {"shangluo", "", 5}, {"jiayuguan", "", 5}, {"jinchang", "", 5},
    {"baiyin", "", 5}, {"tianshui", "", 5}, {"wuwei", "", 5}, {"zhangye", "", 5}, {"pingliang", "", 5},
    {"jiuquan", "", 5}, {"qingyang", "", 5}, {"dingxi", "", 5}, {"longnan", "", 5}, {"haidong", "", 5},
    {"shizuishan", "", 5}, {"wuzhong", "", 5}, {"guyuan", "", 5}, {"zhongwei", "", 5}, {"kelamayi", "", 5},
    {"tulufan", "", 5}, {"hami", "", 5}, {"kashi", "", 5}, {"hetian", "", 5}, {"akesu", "", 5}, {"yili", "", 5},
    {"wuhai", "", 5}, {"bayannaoer", "", 5}, {"wulanchabu", "", 5}, {"hulunbeier", "", 5}, {"shuozhou", "", 5},
    {"xinzhou", "", 5}, {"lvliang", "", 5}, {"jincheng", "", 5}, {"zhoushan", "", 5}, {"lishui", "", 5},
    {"quzhou", "", 5}, {"danzhou", "", 5}, {"rikaze", "", 5}, {"changdu", "", 5}, {"linzhi", "", 5},
    {"shannan", "", 5}, {"naqu", "", 5}, {"chuxiong", "", 5}, {"honghe", "", 5}, {"wenshan", "", 5},
    {"xishuangbanna", "", 5}, {"dali", "", 5}, {"dehong", "", 5}, {"diqing", "", 5}, {"qiandongnan", "", 5},
    {"qiannan", "", 5}, {"qianxinan", "", 5}, {"aba", "", 5}, {"ganzi", "", 5}, {"liangshan", "", 5}, {"enshi", "", 5},
    {"xiantao", "", 5}, {"qianjiang", "", 5}, {"tianmen", "", 5}, {"xiangxi", "", 5}, {"yanbian", "", 5},
    {"linxia", "", 5}, {"gannan", "", 5}, {"haixi", "", 5}, {"yushu", "", 5},
};
// clang-format on

// Brand names are invented; `brand_x` is the brand the API examples use.
constexpr Brand kBrandTable[] = {
    {"brand_x", kBeauty, 0.30},    {"lanzhi", kBeauty, 0.20},     {"yuyan", kBeauty, 0.15},
    {"shuiguang", kBeauty, 0.10},  {"yiyun", kWomenswear, 0.20},  {"shuyi", kWomenswear, 0.15},
    {"qianzi", kWomenswear, 0.10}, {"haoyu", kMenswear, 0.25},    {"junpai", kMenswear, 0.15},
    {"beibei", kBaby, 0.30},       {"anxin", kBaby, 0.20},        {"xiaoya", kBaby, 0.15},
    {"jixing", kDigital, 0.30},    {"leike", kDigital, 0.20},     {"zhiguang", kDigital, 0.15},
    {"xinpin", kDigital, 0.10},    {"wanqu", kGames, 0.35},       {"leyou", kGames, 0.25},
    {"feiyue", kSports, 0.30},     {"tengbu", kSports, 0.20},     {"jujia", kHome, 0.25},
    {"mumu", kHome, 0.15},         {"nuanwu", kHome, 0.10},       {"guozhen", kFood, 0.20},
    {"xiangwei", kFood, 0.15},     {"guoyuan", kFood, 0.10},      {"mengchong", kPets, 0.35},
    {"wangwang", kPets, 0.20},     {"shuxiang", kBooks, 0.35},    {"mobi", kBooks, 0.20},
    {"chexing", kAuto, 0.35},      {"luda", kAuto, 0.20},         {"kangning", kHealth, 0.30},
    {"shoulin", kHealth, 0.20},    {"meijia", kAppliances, 0.30}, {"dianxin", kAppliances, 0.20},
    {"jinlu", kJewelry, 0.30},     {"zuanyao", kJewelry, 0.20},   {"bubu", kShoesBags, 0.25},
    {"xiebao", kShoesBags, 0.20},
};

constexpr uint32_t kHeadCategoryTable[] = {
    3607361, 4145813, 4756105, 2355072, 982926,  1575622, 1320293, 3002561, 4801426, 2096639,
    2520377, 1080785, 2735466, 4640311, 4181361, 154040,  149192,  2885642, 3898483, 570735,
    2640118, 4339722, 2920476, 1061857, 1051370, 846990,  2465336, 4806751, 4170419, 1299190,
};

// Columns: name, weight, female, age (18-24 .. 60+), tier (1..5), power (low,
// mid, high), depth (1..3), student, platform (promo_sensitive, quality_pref,
// sharer), favoured verticals, favourite brand.
// clang-format off
constexpr Persona kPersonaTable[] = {
    {"young_urban_beauty", 0.09, 0.95, {.35, .40, .18, .05, .02, 0, 0}, {.45, .35, .12, .05, .03},
     {.15, .55, .30}, {.15, .45, .40}, .30, {.35, .35, .45},
     {{{kBeauty, .55}, {kWomenswear, .30}, {kShoesBags, .15}}}, "brand_x"},
    {"student_gamer", 0.07, 0.20, {.85, .12, .03, 0, 0, 0, 0}, {.25, .30, .25, .12, .08},
     {.60, .35, .05}, {.30, .45, .25}, .90, {.45, .10, .40},
     {{{kGames, .55}, {kDigital, .30}, {kFood, .15}}}, "wanqu"},
    {"new_parent", 0.08, 0.75, {.04, .36, .42, .14, .04, 0, 0}, {.25, .30, .25, .12, .08},
     {.20, .55, .25}, {.10, .40, .50}, 0, {.50, .30, .30},
     {{{kBaby, .60}, {kHome, .25}, {kFood, .15}}}, "beibei"},
    {"affluent_male_tech", 0.06, 0.08, {.02, .15, .30, .28, .22, .03, 0}, {.60, .28, .08, .03, .01},
     {.03, .27, .70}, {.20, .45, .35}, 0, {.10, .60, .15},
     {{{kDigital, .55}, {kAppliances, .30}, {kAuto, .15}}}, "jixing"},
    {"senior", 0.05, 0.55, {0, 0, 0, 0, .05, .35, .60}, {.15, .20, .25, .20, .20},
     {.40, .45, .15}, {.55, .35, .10}, 0, {.40, .20, .08},
     {{{kHealth, .55}, {kFood, .30}, {kHome, .15}}}, "kangning"},
    {"female_student", 0.06, 0.90, {.90, .10, 0, 0, 0, 0, 0}, {.30, .30, .20, .12, .08},
     {.55, .40, .05}, {.25, .45, .30}, .90, {.55, .10, .50},
     {{{kWomenswear, .50}, {kBeauty, .30}, {kBooks, .20}}}, "shuyi"},
    {"white_collar_female", 0.07, 0.92, {.05, .30, .35, .22, .08, 0, 0}, {.50, .32, .12, .04, .02},
     {.08, .50, .42}, {.15, .45, .40}, 0, {.25, .50, .30},
     {{{kWomenswear, .45}, {kJewelry, .30}, {kShoesBags, .25}}}, "yiyun"},
    {"fitness_enthusiast", 0.06, 0.45, {.20, .35, .25, .12, .08, 0, 0}, {.35, .35, .18, .08, .04},
     {.15, .55, .30}, {.20, .50, .30}, .25, {.25, .35, .30},
     {{{kSports, .60}, {kFood, .25}, {kMenswear, .15}}}, "feiyue"},
    {"pet_owner", 0.05, 0.68, {.12, .30, .28, .16, .12, .02, 0}, {.35, .35, .18, .08, .04},
     {.20, .55, .25}, {.20, .45, .35}, .10, {.35, .30, .35},
     {{{kPets, .60}, {kHome, .25}, {kFood, .15}}}, "mengchong"},
    {"budget_homemaker", 0.08, 0.85, {0, .05, .20, .30, .35, .10, 0}, {.05, .15, .30, .30, .20},
     {.60, .35, .05}, {.30, .45, .25}, 0, {.80, .05, .30},
     {{{kFood, .45}, {kHome, .35}, {kAppliances, .20}}}, "guozhen"},
    {"county_value_seeker", 0.08, 0.30, {.15, .20, .20, .15, .20, .08, .02}, {0, .03, .17, .40, .40},
     {.70, .27, .03}, {.50, .35, .15}, .10, {.70, .05, .25},
     {{{kMenswear, .40}, {kFood, .35}, {kHome, .25}}}, "junpai"},
    {"car_owner", 0.05, 0.15, {0, .10, .25, .30, .30, .05, 0}, {.30, .35, .20, .10, .05},
     {.10, .50, .40}, {.30, .45, .25}, 0, {.20, .40, .15},
     {{{kAuto, .60}, {kDigital, .25}, {kSports, .15}}}, "chexing"},
    {"book_lover", 0.04, 0.45, {.15, .20, .20, .15, .20, .08, .02}, {.40, .30, .15, .10, .05},
     {.25, .50, .25}, {.35, .45, .20}, .30, {.20, .35, .20},
     {{{kBooks, .60}, {kDigital, .20}, {kHome, .20}}}, "shuxiang"},
    {"luxury_shopper", 0.03, 0.72, {0, .10, .25, .30, .30, .05, 0}, {.75, .20, .05, 0, 0},
     {0, .10, .90}, {.10, .40, .50}, 0, {.05, .85, .30},
     {{{kJewelry, .50}, {kBeauty, .30}, {kShoesBags, .20}}}, "jinlu"},
    {"young_male_fashion", 0.06, 0.10, {.55, .35, .10, 0, 0, 0, 0}, {.30, .30, .20, .12, .08},
     {.30, .50, .20}, {.25, .45, .30}, .40, {.35, .20, .40},
     {{{kMenswear, .50}, {kShoesBags, .30}, {kSports, .20}}}, "haoyu"},
    {"family_dad", 0.07, 0.05, {0, .02, .18, .35, .40, .05, 0}, {.20, .30, .25, .15, .10},
     {.20, .50, .30}, {.35, .45, .20}, 0, {.30, .30, .10},
     {{{kAppliances, .45}, {kBaby, .30}, {kAuto, .25}}}, "meijia"},
};
// clang-format on

}  // namespace

std::span<const Vertical> verticals() { return kVerticalTable; }
std::span<const City> cities() { return kCityTable; }
std::span<const Brand> brands() { return kBrandTable; }
std::span<const uint32_t> head_categories() { return kHeadCategoryTable; }
std::span<const Persona> personas() { return kPersonaTable; }

}  // namespace crowd::synth::world
