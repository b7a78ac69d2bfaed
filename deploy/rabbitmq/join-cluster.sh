#!/usr/bin/env bash
# Starts this RabbitMQ node and joins it to the cluster of the node named in $1 (once: a node
# that is already a member just starts). Used by the `cluster` profile of docker-compose.yml.
set -euo pipefail
seed=$1
docker-entrypoint.sh rabbitmq-server &
server=$!
rabbitmqctl wait --timeout 120 "/var/lib/rabbitmq/mnesia/rabbit@$(hostname).pid"
if ! rabbitmqctl cluster_status --formatter json | grep -q "\"$seed\""; then
  rabbitmqctl stop_app
  rabbitmqctl join_cluster "$seed"
  rabbitmqctl start_app
fi
wait "$server"
