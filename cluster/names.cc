#include "cluster/names.h"

namespace crowd::cluster {

std::string shard_stream(std::string_view cluster, uint32_t shard) {
  std::string s = "CROWD_";
  s.append(cluster).append("_S").append(std::to_string(shard));
  return s;
}

std::string shard_subject(std::string_view cluster, uint32_t shard) {
  std::string s = "crowd.";
  s.append(cluster).append(".w.").append(std::to_string(shard));
  return s;
}

std::string applied_subject(std::string_view cluster, uint32_t shard) {
  std::string s = "crowd.";
  s.append(cluster).append(".applied.").append(std::to_string(shard));
  return s;
}

std::string etcd_prefix(std::string_view cluster) {
  std::string s = "/crowd/";
  s.append(cluster).append("/");
  return s;
}

std::string replica_key(std::string_view cluster, uint32_t shard, std::string_view id) {
  std::string s = etcd_prefix(cluster);
  s.append("members/shard-").append(std::to_string(shard)).append("/").append(id);
  return s;
}

}  // namespace crowd::cluster
