// The gateway example's registry: the same watch server as the microservice example (127.0.0.1:12345).
//   npm run example -- gateway/watch
import "../microservice/watch.js";
