// The gateway example's db0: the microservice example's DB node (127.0.0.1:10001).
//   npm run example -- gateway/db
import "../microservice/db.js";
