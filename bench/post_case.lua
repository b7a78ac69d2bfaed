-- wrk script: POST /cases with a bearer token (BENCH_TOKEN) and a case as JSON
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"kind": "complaint", "channel": "hotline", "category": "broadband",'
  .. ' "region": "Haidian", "customer_ref": "ACC-1001",'
  .. ' "content": "Broadband drops every evening", "identity_verified": true}'
